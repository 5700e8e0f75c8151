#!/usr/bin/env python3
"""Exactly-once consume-transform-produce with confluent-kafka (librdkafka's transactional
producer), for Tributary's compat tests (compat/tests/python-transactions.test.ts).

Usage:  txn.py BOOTSTRAP  < params.json

params: {"input", "output", "group", "txnid", "batch"?: 25, "abort_every"?: 7, "pause_ms"?: 0,
         "timeout"?: 150}

A transactional Producer (transactional.id) and a read_committed Consumer (group.id,
enable.auto.commit=false) that assign()s every input partition. One transaction per non-empty
consume() (at most `batch` records): each record is copied to the same partition number of the
output topic (same key and value, headers in.p / in.o naming its source), then
send_offsets_to_transaction(next offsets, consumer.consumer_group_metadata()) and
commit_transaction(). Every abort_every-th transaction is aborted on purpose after its records
are flushed and its offsets sent; the consumer then rewinds to the committed offsets.

Errors (the broker was killed...) are handled as librdkafka documents it: a retriable error of
commit_transaction is retried; txn_requires_abort() -> abort_transaction(); fatal(), a timeout
(see recover()) or an abort that fails -> a new Producer with the same transactional.id (init_transactions fences the old
one and completes or aborts its transaction). The consumer then rewinds to the committed offsets
(committed() asks for stable offsets), and the loop goes on until the committed offsets reach the
input end offsets taken at the start.

Output: JSON lines, flushed per line, the same events as the Java harness's txn-pipeline
scenario: {"ev": "start", "end": {P: END}}, {"ev": "commit", "txn", "n", "copied", "offsets"},
{"ev": "abort", "txn", "n", "from": {P: FIRST}, "to": {P: NEXT}}, {"ev": "recover", ...},
{"ev": "producer", "n"}, and last {"done": true, "txns", "committed", "aborted", "recoveries",
"producers", "copied", "offsets", "ms"} ({"done": false, ...} if the watchdog fires).
"""
import faulthandler
import json
import sys
import threading
import time
import os

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

OP = 10.0


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def err(e):
    if isinstance(e, KafkaException):
        e = e.args[0]
    if isinstance(e, KafkaError):
        return {"error": e.name(), "code": e.code(), "str": e.str(), "retriable": e.retriable(),
                "fatal": e.fatal(), "abortable": e.txn_requires_abort()}
    return {"error": type(e).__name__, "code": None, "str": str(e)}


def kerr(e):
    if isinstance(e, KafkaException) and isinstance(e.args[0], KafkaError):
        return e.args[0]
    return None


class Pipeline:
    def __init__(self, bootstrap, p):
        self.bootstrap = bootstrap
        self.input = p["input"]
        self.output = p["output"]
        self.group = p["group"]
        self.txnid = p["txnid"]
        self.batch = p.get("batch", 25)
        self.abort_every = p.get("abort_every", 7)
        self.pause = p.get("pause_ms", 0) / 1000.0
        self.extra = p.get("config", {})
        self.txns = self.commits = self.aborts = self.recoveries = self.producers = self.copied = 0
        self.committed = {}
        self.end = {}
        self.parts = []
        self.in_txn = False
        self.producer = None
        self.consumer = None
        self.last_progress = time.time()

    # -------------------------------------------------------------- clients

    def new_producer(self):
        conf = {"bootstrap.servers": self.bootstrap, "client.id": "compat-py-txn-producer",
                "transactional.id": self.txnid, "enable.idempotence": True, "acks": "all",
                "linger.ms": 5, "transaction.timeout.ms": 30000, "message.timeout.ms": 20000,
                "socket.timeout.ms": 10000, "reconnect.backoff.max.ms": 1000,
                # librdkafka 2.16 bug (confluentinc/librdkafka#5511, fix in PR #5512): when every
                # known broker is down at once -- any restart of a single-node cluster, Apache Kafka
                # as well as Tributary -- the client re-bootstraps and decommissions the learned
                # brokers, but its group-coordinator cache keeps the decommissioned one, so the next
                # send_offsets_to_transaction waits for it forever (its timeout is not checked
                # either, #5456). Reproduced deterministically against both brokers; re-bootstrap
                # is of no use with a single bootstrap server anyway.
                "metadata.recovery.strategy": "none"}
        conf.update(self.extra)
        if os.environ.get("TXN_PY_DEBUG"):  # e.g. eos,metadata,protocol: librdkafka debug to stderr
            conf["debug"] = os.environ["TXN_PY_DEBUG"]
        attempt = 0
        while True:
            attempt += 1
            pr = Producer(conf)
            self.producers += 1
            try:
                t0 = time.time()
                pr.init_transactions(OP)
                self.producer = pr
                out({"ev": "producer", "n": self.producers, "init_ms": int((time.time() - t0) * 1000)})
                return
            except KafkaException as e:
                out({"ev": "init_error", "attempt": attempt, **err(e)})
                del pr
                k = kerr(e)
                # the broker lacks the API or refuses it for good: retrying is pointless
                if k is not None and (k.fatal() or k.code() in (KafkaError._UNSUPPORTED_FEATURE, KafkaError.UNSUPPORTED_VERSION)):
                    raise
                time.sleep(0.5)

    def new_consumer(self):
        conf = {"bootstrap.servers": self.bootstrap, "client.id": "compat-py-txn-consumer",
                "group.id": self.group, "isolation.level": "read_committed", "enable.auto.commit": False,
                "auto.offset.reset": "earliest", "allow.auto.create.topics": False,
                "enable.partition.eof": False, "socket.timeout.ms": 10000, "fetch.wait.max.ms": 100,
                "reconnect.backoff.max.ms": 1000}
        conf.update(self.extra)
        self.consumer = Consumer(conf)
        if not self.parts:
            md = self.consumer.list_topics(self.input, timeout=OP)
            t = md.topics[self.input]
            if t.error is not None:
                raise KafkaException(t.error)
            self.parts = sorted(t.partitions)
            for p in self.parts:
                _, high = self.consumer.get_watermark_offsets(TopicPartition(self.input, p), timeout=OP)
                self.end[p] = high
            out({"ev": "start", "end": {str(p): o for p, o in self.end.items()}, "mode": "assign"})

    def rewind(self):
        """assign() every input partition at its committed offset (the beginning if none)."""
        tps = self.consumer.committed([TopicPartition(self.input, p) for p in self.parts], timeout=OP)
        assign = []
        for tp in tps:
            if tp.error is not None:
                raise KafkaException(tp.error)
            off = tp.offset if tp.offset >= 0 else -2  # OFFSET_BEGINNING
            self.committed[tp.partition] = max(tp.offset, 0)
            assign.append(TopicPartition(self.input, tp.partition, off))
        self.consumer.assign(assign)

    # -------------------------------------------------------------- the loop

    def finished(self):
        return bool(self.end) and all(self.committed.get(p, 0) >= e for p, e in self.end.items())

    def run(self):
        started = time.time()
        self.new_consumer()
        self.new_producer()
        self.rewind()
        while not self.finished():
            phase = "poll"
            try:
                msgs = self.consumer.consume(num_messages=self.batch, timeout=0.2)
                for m in msgs:
                    if m.error() is not None:
                        out({"ev": "consume_error", "p": m.partition(), **err(m.error())})
                msgs = [m for m in msgs if m.error() is None]
                if not msgs:
                    if time.time() - self.last_progress > 5:
                        self.last_progress = time.time()
                        pos = self.consumer.position([TopicPartition(self.input, p) for p in self.parts])
                        out({"ev": "idle", "positions": {str(tp.partition): tp.offset for tp in pos},
                             "committed": {str(p): o for p, o in self.committed.items()}})
                    continue
                self.last_progress = time.time()
                phase = "produce"
                self.producer.begin_transaction()
                self.in_txn = True
                self.txns += 1
                txn = self.txns
                first, nxt = {}, {}
                for m in msgs:
                    self.produce(m)
                    first.setdefault(m.partition(), m.offset())
                    nxt[m.partition()] = m.offset() + 1
                abort = self.abort_every > 0 and txn % self.abort_every == 0
                phase = "offsets"
                self.producer.send_offsets_to_transaction(
                    [TopicPartition(self.input, p, o) for p, o in sorted(nxt.items())],
                    self.consumer.consumer_group_metadata(), OP)
                if abort:
                    phase = "abort"
                    if self.producer.flush(OP) != 0:
                        raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "flush before the deliberate abort"))
                    self.producer.abort_transaction(OP)
                    self.in_txn = False
                    self.aborts += 1
                    out({"ev": "abort", "txn": txn, "n": len(msgs), "from": {str(p): o for p, o in first.items()},
                         "to": {str(p): o for p, o in nxt.items()}})
                    phase = "rewind"
                    self.rewind()
                else:
                    phase = "commit"
                    self.commit()
                    self.in_txn = False
                    self.commits += 1
                    self.copied += len(msgs)
                    self.committed.update(nxt)
                    out({"ev": "commit", "txn": txn, "n": len(msgs), "copied": self.copied,
                         "offsets": {str(p): o for p, o in nxt.items()}})
                if self.pause:
                    time.sleep(self.pause)
            except KafkaException as e:
                self.recover(phase, e)
        ms = int((time.time() - started) * 1000)
        try:
            self.producer.flush(5)
            self.consumer.close()
        except KafkaException as e:
            out({"ev": "close_error", **err(e)})
        out({"done": True, "txns": self.txns, "committed": self.commits, "aborted": self.aborts,
             "recoveries": self.recoveries, "producers": self.producers, "copied": self.copied,
             "offsets": {str(p): o for p, o in sorted(self.committed.items())}, "ms": ms})

    def produce(self, m):
        headers = [("in.p", str(m.partition()).encode()), ("in.o", str(m.offset()).encode())]
        while True:
            try:
                self.producer.produce(self.output, key=m.key(), value=m.value(), partition=m.partition(), headers=headers)
                break
            except BufferError:
                self.producer.poll(0.1)
        self.producer.poll(0)

    def commit(self):
        """commit_transaction, retried while librdkafka says the error is retriable."""
        for attempt in range(1, 7):
            try:
                self.producer.commit_transaction(OP)
                return
            except KafkaException as e:
                k = kerr(e)
                if k is None or not k.retriable() or attempt == 6:
                    raise
                out({"ev": "commit_retry", "attempt": attempt, **err(e)})
                time.sleep(0.3)

    def recover(self, phase, e):
        self.recoveries += 1
        out({"ev": "recover", "txn": self.txns, "phase": phase, "in_txn": self.in_txn, **err(e)})
        k = kerr(e)
        # After a timeout, as after a fatal error, the producer is replaced: init_transactions on
        # the new one fences the old epoch and completes or aborts whatever it left open. (This
        # began as the workaround for a hang later traced to librdkafka#5511, see new_producer; a
        # fresh producer after a timeout is what an application does anyway.)
        fresh = k is not None and (k.fatal() or k.code() == KafkaError._TIMED_OUT)
        if self.in_txn and not fresh:
            try:
                self.producer.abort_transaction(OP)
                self.in_txn = False
                out({"ev": "recover_abort", "txn": self.txns})
            except KafkaException as e2:
                out({"ev": "recover_abort_failed", "txn": self.txns, **err(e2)})
                fresh = True
        if fresh:
            self.in_txn = False
            self.producer = None
            self.new_producer()
        attempt = 0
        while True:
            attempt += 1
            try:
                self.rewind()
                return
            except KafkaException as e3:
                out({"ev": "rewind_error", "attempt": attempt, **err(e3)})
                if attempt % 3 == 0:
                    try:
                        self.consumer.close()
                    except Exception:  # noqa: BLE001 - replaced below
                        pass
                    self.new_consumer()
                time.sleep(0.3)


def main():
    bootstrap = sys.argv[1]
    raw = sys.stdin.read()
    p = json.loads(raw) if raw.strip() else {}
    timeout = p.get("timeout", 150)

    def watchdog():
        time.sleep(timeout)
        out({"done": False, "error": "HarnessTimeout", "code": -1, "str": f"no result within {timeout} s"})
        sys.stderr.write("--- txn.py watchdog: thread stacks\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(3)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        Pipeline(bootstrap, p).run()
    except Exception as e:  # noqa: BLE001 - reported as data
        out({"done": False, **err(e)})
        sys.stdout.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

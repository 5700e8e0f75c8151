#!/usr/bin/env python3
"""confluent-kafka (librdkafka) harness for Tributary's compat tests.

Usage:  harness.py BOOTSTRAP SCENARIO  < params.json

Params are one JSON object on stdin (may be empty). Results are JSON lines on stdout; the last
line is always {"done": true, ...} on success. Byte strings (keys, values, header values) are
base64 in JSON, None is null. Errors are reported as {"error": NAME, "code": INT, "str": TEXT}
where NAME/CODE are librdkafka's (e.g. UNKNOWN_TOPIC_OR_PART = 3, MSG_SIZE_TOO_LARGE = 10,
_UNKNOWN_TOPIC = -188 for client-local errors, which start with an underscore).

Scenarios:
  create_topics      {"topics": [{"name", "partitions", "replication"?, "config"?}]}
  list_topics        {"topic"?: str, "config"?: {...}}  (never asks for auto-creation)
  produce            {"topic", "records": [{"k", "v", "h"?: [[name, b64]], "ts"?, "p"?}],
                      "config"?: {librdkafka producer props}}
  consume            {"topic", "start"?: "earliest" | {"timestamp": ms}, "config"?: {...}}
                     reads every partition up to its high watermark, then stops
  offsets_for_times  {"topic", "timestamp"}
  watermarks         {"topic"}
  describe_configs   {"resources": [{"type": "topic"|"broker", "name"}]}: one line per resource,
                     {"type", "name", "configs": {NAME: {"v", "src", "ro", "default",
                     "sensitive", "syn": [[name, value, source]]}}} or its error
  incremental_alter_configs  {"type", "name", "ops": [[NAME, VALUE|null, "SET"|"DELETE"|"APPEND"|
                     "SUBTRACT"]], "validate_only"?}: one line {"error": null} or the error
  delete_records     {"topic", "offsets": {"P": OFFSET}}: one line per partition {"p", "low"} or
                     {"p", error}, then {"p", "earliest", "latest"} per partition (list_offsets)
"""
import base64
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                  NewTopic, OffsetSpec, ResourceType)

OP_TIMEOUT = 20.0


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def b64(b):
    return None if b is None else base64.b64encode(b).decode("ascii")


def unb64(s):
    return None if s is None else base64.b64decode(s)


def err(e):
    if e is None:
        return None
    if isinstance(e, KafkaException):
        e = e.args[0]
    if isinstance(e, KafkaError):
        return {"error": e.name(), "code": e.code(), "str": e.str()}
    return {"error": type(e).__name__, "code": None, "str": str(e)}


def base_conf(bootstrap, extra=None):
    conf = {"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000}
    conf.update(extra or {})
    return conf


def query_conf(bootstrap, extra=None):
    """For admin/consumer handles: metadata queries must never auto-create a topic (an
    AdminClient is a producer-type handle in librdkafka, whose default would ask for it)."""
    conf = base_conf(bootstrap, {"allow.auto.create.topics": False})
    conf.update(extra or {})
    return conf


def create_topics(bootstrap, p):
    admin = AdminClient(base_conf(bootstrap))
    new = [NewTopic(t["name"], num_partitions=t.get("partitions", 1),
                    replication_factor=t.get("replication", 1), config=t.get("config", {}))
           for t in p["topics"]]
    futures = admin.create_topics(new, operation_timeout=OP_TIMEOUT, request_timeout=OP_TIMEOUT)
    for name, fut in futures.items():
        try:
            fut.result(timeout=OP_TIMEOUT)
            out({"topic": name, "error": None})
        except Exception as e:  # noqa: BLE001 - reported as data
            out({"topic": name, **err(e)})
    out({"done": True})


def list_topics(bootstrap, p):
    admin = AdminClient(query_conf(bootstrap, p.get("config")))
    md = admin.list_topics(topic=p.get("topic"), timeout=OP_TIMEOUT)
    topics = {}
    for name, t in md.topics.items():
        topics[name] = {
            "error": err(t.error),
            "partitions": sorted(
                ({"id": pm.id, "leader": pm.leader, "replicas": list(pm.replicas),
                  "isrs": list(pm.isrs), "error": err(pm.error)} for pm in t.partitions.values()),
                key=lambda x: x["id"]),
        }
    out({"cluster_id": md.cluster_id, "controller_id": md.controller_id,
         "brokers": sorted(({"id": b.id, "host": b.host, "port": b.port}
                            for b in md.brokers.values()), key=lambda x: x["id"]),
         "topics": topics})
    out({"done": True})


def produce(bootstrap, p):
    conf = base_conf(bootstrap, {"linger.ms": 5})
    conf.update(p.get("config", {}))
    producer = Producer(conf)
    topic = p["topic"]
    results = {}

    def report(i):
        def cb(e, msg):
            r = {"i": i, "p": msg.partition(), "o": msg.offset(), "ts": msg.timestamp()[1]}
            if e is not None:
                r.update(err(e))
            results[i] = r
        return cb

    local_errors = 0
    for i, r in enumerate(p["records"]):
        kwargs = {"key": unb64(r.get("k")), "value": unb64(r.get("v")), "on_delivery": report(i)}
        if r.get("p") is not None:
            kwargs["partition"] = r["p"]
        if r.get("ts") is not None:
            kwargs["timestamp"] = r["ts"]
        if r.get("h"):
            kwargs["headers"] = [(n, unb64(v)) for n, v in r["h"]]
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
            except KafkaException as e:  # rejected locally, e.g. message larger than message.max.bytes
                results[i] = {"i": i, "local": True, **err(e)}
                local_errors += 1
                break
        producer.poll(0)
    remaining = producer.flush(p.get("flush_timeout", 60))
    ok = failed = 0
    for i in sorted(results):
        out(results[i])
        if results[i].get("error"):
            failed += 1
        else:
            ok += 1
    out({"done": True, "ok": ok, "failed": failed, "undelivered": remaining,
         "local_errors": local_errors})


def partitions_of(bootstrap, topic, conf):
    admin = AdminClient(query_conf(bootstrap, {k: v for k, v in conf.items()
                                              if k.startswith("socket") or k.startswith("security")}))
    md = admin.list_topics(topic=topic, timeout=OP_TIMEOUT)
    t = md.topics[topic]
    if t.error is not None:
        raise KafkaException(t.error)
    return sorted(t.partitions)


def consume(bootstrap, p):
    topic = p["topic"]
    extra = p.get("config", {})
    conf = query_conf(bootstrap, {"group.id": "compat-harness", "enable.auto.commit": False,
                                 "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    conf.update(extra)
    parts = partitions_of(bootstrap, topic, extra)
    consumer = Consumer(conf)
    start = p.get("start", "earliest")
    if isinstance(start, dict) and "timestamp" in start:
        tps = consumer.offsets_for_times([TopicPartition(topic, i, start["timestamp"]) for i in parts],
                                         timeout=OP_TIMEOUT)
        # offset -1 (no record at or after ts) means: nothing to read, start at the end.
        assign = []
        for tp in tps:
            if tp.error is not None:
                raise KafkaException(tp.error)
            if tp.offset < 0:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, tp.partition),
                                                         timeout=OP_TIMEOUT)
                tp.offset = high
            assign.append(TopicPartition(topic, tp.partition, tp.offset))
    else:
        assign = [TopicPartition(topic, i, -2) for i in parts]  # OFFSET_BEGINNING
    consumer.assign(assign)
    pending = set(parts)
    count = 0
    deadline = time.time() + p.get("timeout", 60)
    eof = {}
    while pending and time.time() < deadline:
        msgs = consumer.consume(num_messages=1000, timeout=1.0)
        for m in msgs:
            e = m.error()
            if e is not None:
                if e.code() == KafkaError._PARTITION_EOF:
                    pending.discard(m.partition())
                    eof[str(m.partition())] = m.offset()
                    continue
                out({"p": m.partition(), **err(e)})
                continue
            ts_type, ts = m.timestamp()
            out({"p": m.partition(), "o": m.offset(), "ts": ts,
                 "tst": {0: "none", 1: "create", 2: "logappend"}.get(ts_type, ts_type),
                 "k": b64(m.key()), "v": b64(m.value()),
                 "h": [[n, b64(v)] for n, v in (m.headers() or [])]})
            count += 1
    consumer.close()
    out({"done": not pending, "count": count, "eof": eof, "timed_out": sorted(pending)})


def offsets_for_times(bootstrap, p):
    topic = p["topic"]
    parts = partitions_of(bootstrap, topic, {})
    consumer = Consumer(query_conf(bootstrap, {"group.id": "compat-harness"}))
    tps = consumer.offsets_for_times([TopicPartition(topic, i, p["timestamp"]) for i in parts],
                                     timeout=OP_TIMEOUT)
    for tp in tps:
        out({"p": tp.partition, "o": tp.offset, **(err(tp.error) or {})})
    consumer.close()
    out({"done": True})


def watermarks(bootstrap, p):
    topic = p["topic"]
    parts = partitions_of(bootstrap, topic, {})
    consumer = Consumer(query_conf(bootstrap, {"group.id": "compat-harness"}))
    for i in parts:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, i), timeout=OP_TIMEOUT)
        out({"p": i, "low": low, "high": high})
    consumer.close()
    out({"done": True})


RESOURCE_TYPES = {"topic": ResourceType.TOPIC, "broker": ResourceType.BROKER}


def source_name(src):
    """ConfigEntry.source is an int in describe results (a ConfigSource elsewhere)."""
    return ConfigSource(src).name if isinstance(src, int) else src.name


def describe_configs(bootstrap, p):
    admin = AdminClient(query_conf(bootstrap))
    resources = [ConfigResource(RESOURCE_TYPES[r["type"]], r["name"]) for r in p["resources"]]
    futures = admin.describe_configs(resources, request_timeout=OP_TIMEOUT)
    for spec, res in zip(p["resources"], resources):
        line = {"type": spec["type"], "name": spec["name"]}
        try:
            entries = futures[res].result(timeout=OP_TIMEOUT)
            line["configs"] = {
                name: {"v": e.value, "src": source_name(e.source), "ro": e.is_read_only, "default": e.is_default,
                       "sensitive": e.is_sensitive,
                       "syn": [[s.name, s.value, source_name(s.source)] for s in e.synonyms.values()]}
                for name, e in sorted(entries.items())}
            line["error"] = None
        except Exception as e:  # noqa: BLE001 - reported as data
            line.update(err(e))
        out(line)
    out({"done": True})


def incremental_alter_configs(bootstrap, p):
    admin = AdminClient(query_conf(bootstrap))
    ops = [ConfigEntry(n, v, incremental_operation=AlterConfigOpType[op]) for n, v, op in p["ops"]]
    res = ConfigResource(RESOURCE_TYPES[p["type"]], p["name"], incremental_configs=ops)
    futures = admin.incremental_alter_configs([res], request_timeout=OP_TIMEOUT,
                                              validate_only=p.get("validate_only", False))
    try:
        futures[res].result(timeout=OP_TIMEOUT)
        out({"error": None})
    except Exception as e:  # noqa: BLE001 - reported as data
        out(err(e))
    out({"done": True})


def delete_records(bootstrap, p):
    admin = AdminClient(query_conf(bootstrap))
    topic = p["topic"]
    tps = [TopicPartition(topic, int(part), off) for part, off in sorted(p["offsets"].items())]
    futures = admin.delete_records(tps, request_timeout=OP_TIMEOUT, operation_timeout=OP_TIMEOUT)
    for tp in tps:
        try:
            out({"p": tp.partition, "low": futures[tp].result(timeout=OP_TIMEOUT).low_watermark, "error": None})
        except Exception as e:  # noqa: BLE001 - reported as data
            out({"p": tp.partition, **err(e)})
    parts = sorted(admin.list_topics(topic=topic, timeout=OP_TIMEOUT).topics[topic].partitions)
    offsets = {}
    for name, spec in (("earliest", OffsetSpec.earliest()), ("latest", OffsetSpec.latest())):
        fs = admin.list_offsets({TopicPartition(topic, q): spec for q in parts}, request_timeout=OP_TIMEOUT)
        for tp, f in fs.items():
            offsets.setdefault(tp.partition, {})[name] = f.result(timeout=OP_TIMEOUT).offset
    for q in parts:
        out({"p": q, **offsets[q]})
    out({"done": True})


SCENARIOS = {f.__name__: f for f in
             (create_topics, list_topics, produce, consume, offsets_for_times, watermarks,
              describe_configs, incremental_alter_configs, delete_records)}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        sys.stderr.write(__doc__)
        sys.exit(2)
    raw = sys.stdin.read() if not sys.stdin.isatty() else ""
    params = json.loads(raw) if raw.strip() else {}
    try:
        SCENARIOS[sys.argv[2]](sys.argv[1], params)
    except KafkaException as e:
        out({"fatal": True, **err(e)})
        sys.exit(1)


if __name__ == "__main__":
    main()

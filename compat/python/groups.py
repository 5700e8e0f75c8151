#!/usr/bin/env python3
"""confluent-kafka (librdkafka) group consumer for Tributary's compat tests (compat/tests/groups.test.ts).

Usage:  groups.py BOOTSTRAP [member]  < params.json     one group member (below)
        groups.py BOOTSTRAP describe  < params.json     {"group", "topic"}: AdminClient
            describe_consumer_groups + list_consumer_group_offsets, one JSON line:
            {"state", "protocol", "members": [{"client_id", "parts"}], "offsets": {P: OFFSET}}

One member of a consumer group: subscribe() to a topic, process records (print them) and then
commit the processed offsets synchronously (at-least-once), until it is killed (SIGKILL, to
simulate a crash), told to stop by the file named in "stop_file" appearing (then it closes,
which sends LeaveGroup), or "timeout" passes.

Params (JSON object on stdin):
  topic, group, name, session_timeout_ms?, heartbeat_interval_ms?, stop_file?, timeout?,
  assignor? (classic: "range" | "roundrobin" | "cooperative-sticky"; KIP-848: "uniform" | "range"),
  protocol? ("classic" default | "consumer": KIP-848), instance_id? (group.instance.id),
  config? {librdkafka props}

Output (JSON lines, flushed at once so the parent sees them live):
  {"ev": "assign", "parts": [...], "all": [...]}   after each assignment (all = what it owns now)
  {"ev": "revoke", "parts": [...], "all": [...]}
  {"ev": "rec", "p": P, "o": O, "v": TEXT}          a processed record (its commit follows)
  {"ev": "commit", "offsets": {P: NEXT}}            a commit that succeeded
  {"ev": "commit_error", "p": P, "o": O, "error": NAME}
  {"ev": "error", "error": NAME, "code": C, "str": TEXT}
  {"done": true, "records": N}                      on a clean stop
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition


def out(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def describe(bootstrap, p):
    from confluent_kafka import ConsumerGroupTopicPartitions
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})
    group = p["group"]
    res = {}
    try:
        d = admin.describe_consumer_groups([group], request_timeout=20)[group].result(timeout=20)
        res["state"] = str(d.state.name) if d.state is not None else None
        res["protocol"] = d.partition_assignor
        res["members"] = sorted(
            ({"client_id": m.client_id,
              "parts": sorted(tp.partition for tp in (m.assignment.topic_partitions if m.assignment else [])
                              if tp.topic == p["topic"])}
             for m in d.members), key=lambda x: x["client_id"])
    except KafkaException as ex:
        ke = ex.args[0]
        res["describe_error"] = {"error": ke.name(), "code": ke.code(), "str": ke.str()}
    try:
        o = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=20)[group]
        r = o.result(timeout=20)
        res["offsets"] = {str(tp.partition): tp.offset for tp in r.topic_partitions if tp.topic == p["topic"]}
    except KafkaException as ex:
        ke = ex.args[0]
        res["offsets_error"] = {"error": ke.name(), "code": ke.code(), "str": ke.str()}
    out(res)


def main():
    bootstrap = sys.argv[1]
    p = json.loads(sys.stdin.read() or "{}")
    if len(sys.argv) > 2 and sys.argv[2] == "describe":
        describe(bootstrap, p)
        return
    topic = p["topic"]
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": p["group"],
        "client.id": p.get("name", "py-member"),
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "allow.auto.create.topics": False,
        "socket.timeout.ms": 10000,
        "fetch.wait.max.ms": 100,
        "topic.metadata.refresh.interval.ms": 2000,
    }
    if p.get("protocol") == "consumer":
        # KIP-848: the broker assigns; session and heartbeat timing are broker configs
        conf["group.protocol"] = "consumer"
        if p.get("assignor"):
            conf["group.remote.assignor"] = p["assignor"]
    else:
        conf["session.timeout.ms"] = p.get("session_timeout_ms", 6000)
        conf["heartbeat.interval.ms"] = p.get("heartbeat_interval_ms", 500)
        if p.get("assignor"):
            conf["partition.assignment.strategy"] = p["assignor"]
    if p.get("instance_id"):
        conf["group.instance.id"] = p["instance_id"]
    conf.update(p.get("config", {}))
    owned = set()

    def on_assign(consumer, parts):
        for tp in parts:
            owned.add(tp.partition)
        out({"ev": "assign", "parts": sorted(tp.partition for tp in parts), "all": sorted(owned)})

    def on_revoke(consumer, parts):
        for tp in parts:
            owned.discard(tp.partition)
        out({"ev": "revoke", "parts": sorted(tp.partition for tp in parts), "all": sorted(owned)})

    def on_lost(consumer, parts):
        for tp in parts:
            owned.discard(tp.partition)
        out({"ev": "lost", "parts": sorted(tp.partition for tp in parts), "all": sorted(owned)})

    conf["error_cb"] = lambda e: out({"ev": "error", "error": e.name(), "code": e.code(), "str": e.str(),
                                      "fatal": e.fatal()})
    consumer = Consumer(conf)
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    stop_file = p.get("stop_file")
    deadline = time.time() + p.get("timeout", 120)
    count = 0
    while time.time() < deadline:
        if stop_file and os.path.exists(stop_file):
            break
        msgs = consumer.consume(num_messages=200, timeout=0.2)
        for m in msgs:
            e = m.error()
            if e is not None:
                if e.code() != KafkaError._PARTITION_EOF:
                    out({"ev": "error", "error": e.name(), "code": e.code(), "str": e.str()})
                continue
        good = [m for m in msgs if m.error() is None]
        if not good:
            continue
        last = {}
        for m in good:
            v = m.value()
            out({"ev": "rec", "p": m.partition(), "o": m.offset(), "v": None if v is None else v.decode("utf-8", "replace")})
            last[m.partition()] = m.offset()
            count += 1
        # commit after processing: the next offset after the last record per partition
        try:
            consumer.commit(offsets=[TopicPartition(topic, part, off + 1) for part, off in last.items()],
                            asynchronous=False)
            out({"ev": "commit", "offsets": {str(part): off + 1 for part, off in last.items()}})
        except KafkaException as ex:
            ke = ex.args[0]
            for part, off in last.items():
                out({"ev": "commit_error", "p": part, "o": off, "error": ke.name()})
    consumer.close()
    out({"done": True, "records": count})


if __name__ == "__main__":
    main()

package dev.tributary.compat;

import static dev.tributary.compat.Harness.done;
import static dev.tributary.compat.Harness.emit;
import static dev.tributary.compat.Harness.err;
import static dev.tributary.compat.Harness.str;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Scenario {@code txn-pipeline}: a consume-transform-produce loop with exactly-once semantics,
 * written the way a real application writes it (KIP-98 / KIP-447):
 *
 * <pre>
 *   Harness BOOTSTRAP txn-pipeline INPUT output=OUTPUT group=G txnid=TID
 *           [batch=25] [abort-every=7] [pause-ms=0] [mode=assign|subscribe] [timeout=SECONDS]
 * </pre>
 *
 * <ul>
 *   <li>a transactional KafkaProducer ({@code transactional.id=TID}, idempotent, acks=all) and a
 *       {@code read_committed} KafkaConsumer ({@code group.id=G}, {@code enable.auto.commit=false},
 *       {@code max.poll.records=batch}) that either {@code assign()}s every INPUT partition (default)
 *       or {@code subscribe()}s (mode=subscribe);</li>
 *   <li>per non-empty poll one transaction: each record is copied to the same partition number of
 *       OUTPUT (same key, same value, headers {@code in.p}/{@code in.o} naming its source), then
 *       {@code sendOffsetsToTransaction(next offsets, consumer.groupMetadata())} and
 *       {@code commitTransaction()};</li>
 *   <li>every {@code abort-every}-th transaction is aborted on purpose after producing (flushed, so
 *       the records are in the log) and after sending its offsets; the consumer then rewinds to
 *       the committed offsets, so those records are copied again by a later transaction;</li>
 *   <li>any other exception (the broker was killed: TimeoutException, disconnects, fencing, a
 *       coordinator that moved...) is recovered from as an application would: abortTransaction()
 *       if the producer allows it, else close the producer and create a new one with the same
 *       transactional.id (initTransactions fences the old epoch and completes or aborts its
 *       transaction), then rewind the consumer to the committed offsets (a new consumer if that
 *       fails too), and go on;</li>
 *   <li>it stops once the committed offsets reach the INPUT end offsets taken at the start (the
 *       input is written completely before the pipeline starts).</li>
 * </ul>
 *
 * Output, flushed per line: {@code {"ev":"start","end":{P:END}}}, {@code {"ev":"commit","txn",
 * "n","copied","offsets":{P:NEXT}}}, {@code {"ev":"abort","txn","n","from":{P:FIRST},"to":{P:NEXT}}}
 * (deliberate aborts: the input ranges whose copies were aborted), {@code {"ev":"recover",
 * "txn","phase",error...}}, {@code {"ev":"recreate","what":"producer"|"consumer"}} and at the end
 * {@code {"done":true,"txns","committed","aborted","recoveries","producers","consumers","copied",
 * "ms"}}. Client configs given as options (names with a dot) go to both clients.
 */
final class TxnPipeline {
  private static final Comparator<TopicPartition> BY_PARTITION = Comparator.comparingInt(TopicPartition::partition);

  private final Harness h;
  private final String output;
  private final String groupId;
  private final String txnId;
  private final int batch;
  private final int abortEvery;
  private final long pauseMs;
  private final boolean subscribe;

  private KafkaProducer<byte[], byte[]> producer;
  private KafkaConsumer<byte[], byte[]> consumer;
  private final List<TopicPartition> inParts = new ArrayList<>();
  private final Map<Integer, Long> end = new TreeMap<>();
  /** The committed offsets as far as we know (after our commits, refreshed by every rewind). */
  private final Map<Integer, Long> committed = new TreeMap<>();
  private boolean inTxn;
  private long txns;
  private long commits;
  private long aborts;
  private long recoveries;
  private long producers;
  private long consumers;
  private long copied;

  TxnPipeline(Harness h) {
    this.h = h;
    this.output = required(h, "output");
    this.groupId = required(h, "group");
    this.txnId = required(h, "txnid");
    this.batch = Integer.parseInt(h.opts.getOrDefault("batch", "25"));
    this.abortEvery = Integer.parseInt(h.opts.getOrDefault("abort-every", "7"));
    this.pauseMs = Long.parseLong(h.opts.getOrDefault("pause-ms", "0"));
    this.subscribe = h.opts.getOrDefault("mode", "assign").equals("subscribe");
  }

  private static String required(Harness h, String name) {
    String v = h.opts.get(name);
    if (v == null || v.isEmpty()) throw new IllegalArgumentException(name + "=... is required");
    return v;
  }

  void run() throws Exception {
    long started = System.nanoTime();
    newConsumer(true);
    newProducer();
    if (!subscribe) rewind();
    while (!finished()) {
      String phase = "poll";
      try {
        ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(200));
        if (recs.isEmpty()) continue;
        phase = "produce";
        producer.beginTransaction();
        inTxn = true;
        long txn = ++txns;
        Map<TopicPartition, OffsetAndMetadata> next = new TreeMap<>(BY_PARTITION);
        Map<Integer, Long> first = new TreeMap<>();
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(output, r.partition(), null, r.key(), r.value(), List.of(
              new RecordHeader("in.p", Integer.toString(r.partition()).getBytes(StandardCharsets.UTF_8)),
              new RecordHeader("in.o", Long.toString(r.offset()).getBytes(StandardCharsets.UTF_8))));
          producer.send(out);
          first.putIfAbsent(r.partition(), r.offset());
          next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          n++;
        }
        boolean abort = abortEvery > 0 && txn % abortEvery == 0;
        phase = "offsets";
        producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
        if (abort) {
          phase = "abort";
          producer.flush(); // the aborted records must really be in the log (read_uncommitted sees them)
          producer.abortTransaction();
          inTxn = false;
          aborts++;
          emit("{\"ev\":\"abort\",\"txn\":" + txn + ",\"n\":" + n + ",\"from\":" + json(first) + ",\"to\":" + offsets(next) + "}");
          phase = "rewind";
          rewind();
        } else {
          phase = "commit";
          producer.commitTransaction();
          inTxn = false;
          commits++;
          copied += n;
          for (Map.Entry<TopicPartition, OffsetAndMetadata> e : next.entrySet()) {
            committed.put(e.getKey().partition(), e.getValue().offset());
          }
          emit("{\"ev\":\"commit\",\"txn\":" + txn + ",\"n\":" + n + ",\"copied\":" + copied + ",\"offsets\":" + offsets(next) + "}");
        }
        if (pauseMs > 0) Thread.sleep(pauseMs);
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception e) {
        recover(phase, e);
      }
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    closeQuietly();
    done("\"done\":true,\"txns\":" + txns + ",\"committed\":" + commits + ",\"aborted\":" + aborts + ",\"recoveries\":"
        + recoveries + ",\"producers\":" + producers + ",\"consumers\":" + consumers + ",\"copied\":" + copied
        + ",\"offsets\":" + json(committed) + ",\"ms\":" + ms + ",\"client\":" + str(Harness.clientVersionString()));
  }

  private boolean finished() {
    if (end.isEmpty()) return false;
    for (Map.Entry<Integer, Long> e : end.entrySet()) {
      if (committed.getOrDefault(e.getKey(), 0L) < e.getValue()) return false;
    }
    return true;
  }

  /** What a real application does after an error in the loop (see the class comment). */
  private void recover(String phase, Exception e) throws InterruptedException {
    recoveries++;
    emit("{\"ev\":\"recover\",\"txn\":" + txns + ",\"phase\":" + str(phase) + ",\"in_txn\":" + inTxn + "," + err(e) + "}");
    boolean fresh = false;
    if (inTxn) {
      try {
        producer.abortTransaction();
        inTxn = false;
        emit("{\"ev\":\"recover_abort\",\"txn\":" + txns + "}");
      } catch (Exception e2) {
        emit("{\"ev\":\"recover_abort_failed\",\"txn\":" + txns + "," + err(e2) + "}");
        fresh = true;
      }
    }
    if (fresh) {
      try {
        producer.close(Duration.ZERO);
      } catch (Exception ignored) {
        // a new producer with the same transactional.id fences it anyway
      }
      inTxn = false;
      newProducer();
    }
    for (int attempt = 1; ; attempt++) {
      try {
        rewind();
        return;
      } catch (Exception e3) {
        emit("{\"ev\":\"rewind_error\",\"attempt\":" + attempt + "," + err(e3) + "}");
        if (attempt % 3 == 0) {
          try {
            consumer.close(Duration.ZERO);
          } catch (Exception ignored) {
            // replaced below
          }
          newConsumer(false);
        }
        Thread.sleep(300);
      }
    }
  }

  /** Seek every partition we own to its committed offset (the beginning if none). */
  private void rewind() {
    Collection<TopicPartition> tps = subscribe ? consumer.assignment() : inParts;
    if (tps.isEmpty()) return;
    Map<TopicPartition, OffsetAndMetadata> c = consumer.committed(new HashSet<>(tps), Duration.ofSeconds(10));
    List<TopicPartition> none = new ArrayList<>();
    for (TopicPartition tp : tps) {
      OffsetAndMetadata o = c.get(tp);
      if (o == null) {
        none.add(tp);
        committed.put(tp.partition(), 0L);
      } else {
        consumer.seek(tp, o.offset());
        committed.put(tp.partition(), o.offset());
      }
    }
    if (!none.isEmpty()) consumer.seekToBeginning(none);
  }

  private void newProducer() throws InterruptedException {
    Properties p = h.base();
    p.put("client.id", "compat-java-txn-producer");
    p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    p.put("transactional.id", txnId);
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("linger.ms", "5");
    p.put("request.timeout.ms", "5000");
    p.put("delivery.timeout.ms", "20000");
    p.put("max.block.ms", "10000");
    p.put("transaction.timeout.ms", "30000");
    p.put("reconnect.backoff.max.ms", "1000");
    p.put("retry.backoff.max.ms", "1000");
    p.putAll(h.clientConfig);
    for (int attempt = 1; ; attempt++) {
      KafkaProducer<byte[], byte[]> pr = new KafkaProducer<>(p);
      producers++;
      try {
        long t0 = System.nanoTime();
        pr.initTransactions();
        producer = pr;
        emit("{\"ev\":\"producer\",\"n\":" + producers + ",\"init_ms\":" + (System.nanoTime() - t0) / 1_000_000 + "}");
        return;
      } catch (Exception e) {
        emit("{\"ev\":\"init_error\",\"attempt\":" + attempt + "," + err(e) + "}");
        try {
          pr.close(Duration.ZERO);
        } catch (Exception ignored) {
          // next attempt
        }
        // the broker lacks the API (or refuses it for good): retrying is pointless
        if (e instanceof UnsupportedVersionException || e instanceof AuthorizationException) throw e;
        Thread.sleep(500);
      }
    }
  }

  private void newConsumer(boolean first) throws InterruptedException {
    Properties p = h.base();
    p.put("client.id", "compat-java-txn-consumer");
    p.put("group.id", groupId);
    p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("allow.auto.create.topics", "false");
    p.put("max.poll.records", Integer.toString(batch));
    p.put("fetch.max.wait.ms", "100");
    p.put("default.api.timeout.ms", "10000");
    p.put("request.timeout.ms", "10000");
    p.put("reconnect.backoff.max.ms", "1000");
    p.put("retry.backoff.max.ms", "1000");
    if (subscribe) {
      p.put("group.protocol", "classic");
      p.put("session.timeout.ms", "10000");
      p.put("heartbeat.interval.ms", "1000");
    }
    p.putAll(h.clientConfig);
    for (int attempt = 1; ; attempt++) {
      KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
      consumers++;
      try {
        if (inParts.isEmpty()) {
          List<PartitionInfo> infos = c.partitionsFor(h.topic, Duration.ofSeconds(10));
          if (infos == null || infos.isEmpty()) throw new IllegalStateException("no partitions for " + h.topic);
          for (PartitionInfo pi : infos) inParts.add(new TopicPartition(h.topic, pi.partition()));
          inParts.sort(BY_PARTITION);
          for (Map.Entry<TopicPartition, Long> e : c.endOffsets(inParts, Duration.ofSeconds(10)).entrySet()) {
            end.put(e.getKey().partition(), e.getValue());
          }
          emit("{\"ev\":\"start\",\"end\":" + json(end) + ",\"mode\":" + str(subscribe ? "subscribe" : "assign") + "}");
        }
        consumer = c;
        if (subscribe) {
          c.subscribe(List.of(h.topic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> tps) {
              emit("{\"ev\":\"revoked\",\"parts\":" + tps.size() + "}");
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> tps) {
              emit("{\"ev\":\"assigned\",\"parts\":" + tps.size() + "}");
              rewind();
            }
          });
        } else {
          c.assign(inParts);
        }
        if (!first) emit("{\"ev\":\"recreate\",\"what\":\"consumer\",\"n\":" + consumers + "}");
        return;
      } catch (Exception e) {
        emit("{\"ev\":\"consumer_error\",\"attempt\":" + attempt + "," + err(e) + "}");
        try {
          c.close(Duration.ZERO);
        } catch (Exception ignored) {
          // next attempt
        }
        Thread.sleep(500);
      }
    }
  }

  private void closeQuietly() {
    try {
      producer.close(Duration.ofSeconds(5));
    } catch (Exception e) {
      emit("{\"ev\":\"close_error\",\"what\":\"producer\"," + err(e) + "}");
    }
    try {
      consumer.close(Duration.ofSeconds(5));
    } catch (Exception e) {
      emit("{\"ev\":\"close_error\",\"what\":\"consumer\"," + err(e) + "}");
    }
  }

  private static String offsets(Map<TopicPartition, OffsetAndMetadata> m) {
    Map<Integer, Long> byP = new TreeMap<>();
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) byP.put(e.getKey().partition(), e.getValue().offset());
    return json(byP);
  }

  private static String json(Map<Integer, Long> m) {
    StringBuilder sb = new StringBuilder("{");
    String sep = "";
    for (Map.Entry<Integer, Long> e : m.entrySet()) {
      sb.append(sep).append('"').append(e.getKey()).append("\":").append(e.getValue());
      sep = ",";
    }
    return sb.append('}').toString();
  }
}

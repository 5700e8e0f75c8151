package dev.tributary.compat;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.protocol.Errors;

/**
 * Apache Kafka Java client harness for Tributary's compat suite.
 *
 * <pre>
 *   Harness BOOTSTRAP SCENARIO TOPIC [option=value ...]
 *
 *   admin    TOPIC   create TOPIC (3 partitions), list topics, describe it and its configs,
 *                    describe the cluster, create it again (TopicExistsException)
 *   create   TOPIC   partitions=N (default 3), tconfig=K=V[,K=V...] (topic configs; a value may not
 *                    contain a comma): create the topic, fail if that fails
 *   produce  TOPIC   records from stdin (format below); prints one line per record, in input order
 *   consume  TOPIC   assign() all partitions (no group), from=earliest (seekToBeginning) or
 *                    from=ts:MILLIS (offsetsForTimes + seek), read up to the end offsets taken at
 *                    the start; prints the records sorted by (partition, offset)
 *   offsets  TOPIC   ts=MILLIS[,MILLIS...]: beginningOffsets, endOffsets and offsetsForTimes per
 *                    partition, one line per timestamp and partition
 *   group    TOPIC   group=G: one consumer group member (subscribe(), see {@link #group()}); runs
 *                    until SIGTERM (clean close: LeaveGroup), idle=SECONDS without records after
 *                    its first assignment, or the watchdog
 *   describe-group TOPIC  group=G: AdminClient describeConsumerGroups + listConsumerGroupOffsets
 *   configs  TOPIC   describeConfigs (topic and broker, with synonyms), incrementalAlterConfigs
 *                    SET/APPEND/SUBTRACT/DELETE, invalid values, validateOnly, legacy alterConfigs
 *                    (clients that still have it); see {@link LogAdmin#configs()}
 *   delete-records TOPIC  before=P:OFFSET[,P:OFFSET...]: deleteRecords, then listOffsets
 *                    earliest/latest per partition; see {@link LogAdmin#deleteRecords()}
 *   txn-pipeline TOPIC  output=OUT group=G txnid=TID: exactly-once consume-transform-produce
 *                    from TOPIC to OUT with deliberate aborts and crash recovery; see {@link TxnPipeline}
 * </pre>
 *
 * Options whose name contains a dot are client configs (compression.type=gzip, acks=all,
 * enable.idempotence=false, linger.ms=5 ...); the others are the harness's own (from, ts, timeout).
 *
 * <p>Input records, one per line, space separated: {@code PARTITION TIMESTAMP KEY VALUE
 * [HNAME:HVALUE ...]} where PARTITION and TIMESTAMP are numbers or {@code -} (unset), KEY, VALUE,
 * HNAME and HVALUE are base64 ({@code -} is null; HNAME is never null).
 *
 * <p>Output: JSON lines on stdout, bytes as base64, null as null; the last line is
 * {@code {"done": true|false, ...}}. Errors are {@code {"error": ExceptionClass, "code": kafka
 * error code or -1, "message": ...}}. A watchdog halts the process after timeout=SECONDS (60).
 * HARNESS_DEBUG=1 logs every request the client sends (API key and version) to stderr.
 */
public final class Harness {
  private static final PrintStream OUT = new PrintStream(
      new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16), false, StandardCharsets.UTF_8);
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final Base64.Decoder UNB64 = Base64.getDecoder();
  private static final Duration OP = Duration.ofSeconds(20);
  /** kafka-clients version, from the jar's kafka/kafka-version.properties (AppInfoParser moved in 4.4). */
  private static final String CLIENT_VERSION = clientVersion();

  String bootstrap;
  String topic;
  final Map<String, String> opts = new HashMap<>();
  final Map<String, String> clientConfig = new LinkedHashMap<>();

  public static void main(String[] args) throws Exception {
    if (System.getenv("HARNESS_DEBUG") != null) {
      System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient", "debug");
    }
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
        System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    if (args.length < 3) {
      System.err.println("usage: Harness BOOTSTRAP admin|produce|consume|offsets TOPIC [option=value ...]");
      System.exit(2);
    }
    Harness h = new Harness();
    h.bootstrap = args[0];
    String scenario = args[1];
    h.topic = args[2];
    for (int i = 3; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      if (eq < 0) throw new IllegalArgumentException("option without '=': " + args[i]);
      String k = args[i].substring(0, eq);
      String v = args[i].substring(eq + 1);
      if (k.contains(".")) h.clientConfig.put(k, v);
      else h.opts.put(k, v);
    }
    long timeoutMs = (long) (Double.parseDouble(h.opts.getOrDefault("timeout", "60")) * 1000);
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(timeoutMs);
      } catch (InterruptedException e) {
        return;
      }
      synchronized (OUT) {
        OUT.println("{\"done\":false,\"error\":\"HarnessTimeout\",\"code\":-1,\"message\":\"no result within "
            + timeoutMs + " ms\"}");
        OUT.flush();
      }
      Runtime.getRuntime().halt(3);
    }, "harness-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();

    int rc = 0;
    try {
      switch (scenario) {
        case "admin" -> h.admin();
        case "create" -> h.create();
        case "produce" -> h.produce();
        case "consume" -> h.consume();
        case "offsets" -> h.offsets();
        case "group" -> h.group();
        case "describe-group" -> h.describeGroup();
        case "configs" -> new LogAdmin(h).configs();
        case "delete-records" -> new LogAdmin(h).deleteRecords();
        case "txn-pipeline" -> new TxnPipeline(h).run();
        default -> throw new IllegalArgumentException("unknown scenario " + scenario);
      }
    } catch (Throwable t) {
      synchronized (OUT) {
        OUT.println("{\"done\":false," + err(t) + "}");
      }
      rc = 1;
    }
    synchronized (OUT) {
      OUT.flush();
    }
    System.exit(rc);
  }

  // ------------------------------------------------------------------ admin

  private void admin() throws Exception {
    Properties p = base();
    p.put("default.api.timeout.ms", "30000");
    p.putAll(clientConfig);
    try (Admin admin = Admin.create(p)) {
      step("create", () -> {
        admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        return "\"topic\":" + str(topic);
      });
      step("list", () -> {
        Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        return "\"found\":" + names.contains(topic) + ",\"count\":" + names.size();
      });
      step("describe", () -> {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        StringBuilder sb = new StringBuilder();
        sb.append("\"name\":").append(str(d.name())).append(",\"id\":").append(str(String.valueOf(d.topicId())))
            .append(",\"internal\":").append(d.isInternal()).append(",\"partitions\":[");
        String sep = "";
        for (TopicPartitionInfo tp : d.partitions()) {
          sb.append(sep).append("{\"p\":").append(tp.partition())
              .append(",\"leader\":").append(tp.leader() == null ? -1 : tp.leader().id())
              .append(",\"replicas\":").append(ids(tp.replicas()))
              .append(",\"isr\":").append(ids(tp.isr())).append('}');
          sep = ",";
        }
        return sb.append(']').toString();
      });
      step("configs", () -> {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config c = admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
        StringBuilder sb = new StringBuilder("\"configs\":{");
        String sep = "";
        for (ConfigEntry e : c.entries()) {
          sb.append(sep).append(str(e.name())).append(":{\"v\":").append(str(e.value()))
              .append(",\"src\":").append(str(e.source().name()))
              .append(",\"ro\":").append(e.isReadOnly())
              .append(",\"sensitive\":").append(e.isSensitive()).append('}');
          sep = ",";
        }
        return sb.append('}').toString();
      });
      step("cluster", () -> {
        DescribeClusterResult c = admin.describeCluster();
        Collection<Node> nodes = c.nodes().get(30, TimeUnit.SECONDS);
        Node controller = c.controller().get(30, TimeUnit.SECONDS);
        StringBuilder sb = new StringBuilder();
        sb.append("\"id\":").append(str(c.clusterId().get(30, TimeUnit.SECONDS)))
            .append(",\"controller\":").append(controller == null ? -1 : controller.id()).append(",\"nodes\":[");
        String sep = "";
        for (Node n : nodes) {
          sb.append(sep).append("{\"id\":").append(n.id()).append(",\"host\":").append(str(n.host()))
              .append(",\"port\":").append(n.port()).append(",\"rack\":").append(str(n.rack())).append('}');
          sep = ",";
        }
        return sb.append(']').toString();
      });
      step("create-again", () -> {
        admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        return "\"topic\":" + str(topic);
      });
      admin.close(Duration.ofSeconds(10));
    }
    done("\"done\":true,\"client\":" + str(CLIENT_VERSION));
  }

  private void create() throws Exception {
    Properties p = base();
    p.putAll(clientConfig);
    try (Admin admin = Admin.create(p)) {
      int n = Integer.parseInt(opts.getOrDefault("partitions", "3"));
      NewTopic nt = new NewTopic(topic, n, (short) 1);
      Map<String, String> configs = LogAdmin.topicConfigs(opts.get("tconfig"));
      if (!configs.isEmpty()) nt.configs(configs);
      admin.createTopics(List.of(nt)).all().get(30, TimeUnit.SECONDS);
      admin.close(Duration.ofSeconds(10));
    }
    done("\"done\":true,\"topic\":" + str(topic));
  }

  interface Step {
    String run() throws Exception;
  }

  /** One output line per step: its fields, or the error; later steps run either way. */
  static void step(String name, Step s) {
    String body;
    try {
      body = s.run() + ",\"error\":null";
    } catch (Throwable t) {
      body = err(t);
    }
    synchronized (OUT) {
      OUT.println("{\"step\":" + str(name) + "," + body + "}");
    }
  }

  // ------------------------------------------------------------------ produce

  private record In(Integer p, Long ts, byte[] k, byte[] v, List<Header> h) {}

  private static List<In> readRecords() throws Exception {
    List<In> recs = new ArrayList<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII), 1 << 16);
    for (String line; (line = r.readLine()) != null;) {
      if (line.isEmpty()) continue;
      String[] f = line.split(" ", -1);
      if (f.length < 4) throw new IllegalArgumentException("bad record line: " + line);
      List<Header> headers = new ArrayList<>();
      for (int i = 4; i < f.length; i++) {
        int c = f[i].indexOf(':');
        headers.add(new RecordHeader(new String(UNB64.decode(f[i].substring(0, c)), StandardCharsets.UTF_8),
            bytes(f[i].substring(c + 1))));
      }
      recs.add(new In(f[0].equals("-") ? null : Integer.valueOf(f[0]), f[1].equals("-") ? null : Long.valueOf(f[1]),
          bytes(f[2]), bytes(f[3]), headers));
    }
    return recs;
  }

  private void produce() throws Exception {
    List<In> recs = readRecords();
    Properties p = base();
    p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    p.put("linger.ms", "5");
    p.put("delivery.timeout.ms", "30000");
    p.put("max.block.ms", "15000");
    p.putAll(clientConfig);
    String[] results = new String[recs.size()];
    boolean[] failed = new boolean[recs.size()];
    long started = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < recs.size(); i++) {
        In r = recs.get(i);
        final int idx = i;
        try {
          producer.send(new ProducerRecord<>(topic, r.p(), r.ts(), r.k(), r.v(), r.h()), (md, e) -> {
            synchronized (results) {
              // first report wins (a fatal producer error can report a record twice)
              if (results[idx] == null) {
                results[idx] = e == null ? delivery(idx, md) : "{\"i\":" + idx + "," + err(e) + "}";
                failed[idx] = e != null;
              }
            }
          });
        } catch (Exception e) {
          synchronized (results) {
            if (results[idx] == null) {
              results[idx] = "{\"i\":" + idx + ",\"local\":true," + err(e) + "}";
              failed[idx] = true;
            }
          }
        }
      }
      producer.flush();
      producer.close(Duration.ofSeconds(10));
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    int missing = 0;
    int nFailed = 0;
    synchronized (OUT) {
      synchronized (results) {
        for (int i = 0; i < results.length; i++) {
          if (results[i] == null) missing++;
          else OUT.println(results[i]);
          if (failed[i]) nFailed++;
        }
        done("\"done\":true,\"ok\":" + (recs.size() - nFailed - missing) + ",\"failed\":" + nFailed
            + ",\"undelivered\":" + missing + ",\"ms\":" + ms + ",\"client\":" + str(CLIENT_VERSION));
      }
    }
  }

  private static String delivery(int i, RecordMetadata md) {
    return "{\"i\":" + i + ",\"p\":" + md.partition() + ",\"o\":" + md.offset() + ",\"ts\":" + md.timestamp() + "}";
  }

  // ------------------------------------------------------------------ consume

  private KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = base();
    p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("enable.auto.commit", "false"); // no group.id: assign() only, nothing committed
    p.put("default.api.timeout.ms", "30000");
    p.putAll(clientConfig);
    return new KafkaConsumer<>(p);
  }

  private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c) {
    List<TopicPartition> tps = new ArrayList<>();
    List<PartitionInfo> infos = c.partitionsFor(topic, OP);
    if (infos == null || infos.isEmpty()) throw new IllegalStateException("no partitions for " + topic);
    for (PartitionInfo pi : infos) tps.add(new TopicPartition(topic, pi.partition()));
    tps.sort(Comparator.comparingInt(TopicPartition::partition));
    return tps;
  }

  private void consume() throws Exception {
    String from = opts.getOrDefault("from", "earliest");
    List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
    Map<TopicPartition, Long> end;
    Map<Integer, Long> positions = new TreeMap<>();
    long started = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      List<TopicPartition> tps = partitions(c);
      c.assign(tps);
      if (from.equals("earliest")) {
        c.seekToBeginning(tps);
      } else if (from.startsWith("ts:")) {
        long ts = Long.parseLong(from.substring(3));
        Map<TopicPartition, Long> q = new HashMap<>();
        for (TopicPartition tp : tps) q.put(tp, ts);
        Map<TopicPartition, OffsetAndTimestamp> found = c.offsetsForTimes(q, OP);
        StringBuilder sb = new StringBuilder("{\"offsets_for_times\":{");
        String sep = "";
        for (TopicPartition tp : tps) {
          OffsetAndTimestamp o = found.get(tp);
          sb.append(sep).append('"').append(tp.partition()).append("\":").append(o == null ? -1 : o.offset());
          sep = ",";
          if (o == null) c.seekToEnd(List.of(tp));
          else c.seek(tp, o.offset());
        }
        synchronized (OUT) {
          OUT.println(sb.append("}}"));
        }
      } else {
        throw new IllegalArgumentException("from must be earliest or ts:MILLIS");
      }
      end = c.endOffsets(tps, OP);
      List<TopicPartition> pending = new ArrayList<>(tps);
      while (!pending.isEmpty()) {
        pending.removeIf(tp -> c.position(tp, OP) >= end.get(tp));
        if (pending.isEmpty()) break;
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) got.add(r);
      }
      for (TopicPartition tp : tps) positions.put(tp.partition(), c.position(tp, OP));
      c.close(Duration.ofSeconds(5));
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    got.sort(Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
        .thenComparingLong(ConsumerRecord::offset));
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    synchronized (OUT) {
      for (ConsumerRecord<byte[], byte[]> r : got) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"p\":").append(r.partition()).append(",\"o\":").append(r.offset())
            .append(",\"ts\":").append(r.timestamp()).append(",\"tst\":").append(str(tsType(r)))
            .append(",\"k\":").append(b64(r.key())).append(",\"v\":").append(b64(r.value())).append(",\"h\":[");
        String sep = "";
        for (Header h : r.headers()) {
          sb.append(sep).append('[').append(str(h.key())).append(',').append(b64(h.value())).append(']');
          sep = ",";
        }
        OUT.println(sb.append("]}"));
        hashRecord(sha, r.partition(), r.key(), r.value());
      }
      StringBuilder pos = new StringBuilder("{");
      String sep = "";
      for (Map.Entry<Integer, Long> e : positions.entrySet()) {
        pos.append(sep).append('"').append(e.getKey()).append("\":").append(e.getValue());
        sep = ",";
      }
      done("\"done\":true,\"count\":" + got.size() + ",\"sha256\":" + str(hex(sha.digest()))
          + ",\"positions\":" + pos.append('}') + ",\"ms\":" + ms + ",\"client\":" + str(CLIENT_VERSION));
    }
  }

  private static String tsType(ConsumerRecord<?, ?> r) {
    return switch (r.timestampType()) {
      case CREATE_TIME -> "create";
      case LOG_APPEND_TIME -> "logappend";
      default -> "none";
    };
  }

  /** Same digest as compat/harness.ts digest(recs, true): per record int32 partition, then
   *  key and value each as int32 length (-1 for null) + bytes. */
  private static void hashRecord(MessageDigest sha, int partition, byte[] k, byte[] v) {
    ByteBuffer b = ByteBuffer.allocate(4);
    sha.update(b.putInt(0, partition).array());
    for (byte[] x : new byte[][] {k, v}) {
      sha.update(b.putInt(0, x == null ? -1 : x.length).array());
      if (x != null) sha.update(x);
    }
  }

  // ------------------------------------------------------------------ offsets

  private void offsets() throws Exception {
    try (KafkaConsumer<byte[], byte[]> c = consumer()) {
      List<TopicPartition> tps = partitions(c);
      Map<TopicPartition, Long> begin = c.beginningOffsets(tps, OP);
      Map<TopicPartition, Long> end = c.endOffsets(tps, OP);
      for (String t : opts.getOrDefault("ts", "0").split(",")) {
        long ts = Long.parseLong(t);
        Map<TopicPartition, Long> q = new HashMap<>();
        for (TopicPartition tp : tps) q.put(tp, ts);
        Map<TopicPartition, OffsetAndTimestamp> found = c.offsetsForTimes(q, OP);
        synchronized (OUT) {
          for (TopicPartition tp : tps) {
            OffsetAndTimestamp o = found.get(tp);
            OUT.println("{\"ts\":" + ts + ",\"p\":" + tp.partition() + ",\"start\":" + begin.get(tp) + ",\"end\":"
                + end.get(tp) + ",\"o\":" + (o == null ? -1 : o.offset()) + ",\"ots\":" + (o == null ? -1 : o.timestamp()) + "}");
          }
        }
      }
      c.close(Duration.ofSeconds(5));
    }
    done("\"done\":true,\"client\":" + str(CLIENT_VERSION));
  }

  // ------------------------------------------------------------------ group

  /** Set by the SIGTERM hook; the poll loop then closes the consumer (LeaveGroup) and returns. */
  private static volatile boolean stopping;
  private static final CountDownLatch GROUP_CLOSED = new CountDownLatch(1);

  static void emit(String line) {
    synchronized (OUT) {
      OUT.println(line);
      OUT.flush();
    }
  }

  private static String parts(Collection<TopicPartition> tps) {
    TreeSet<Integer> s = new TreeSet<>();
    for (TopicPartition tp : tps) s.add(tp.partition());
    return s.toString().replace(" ", "");
  }

  /**
   * One member of a consumer group: subscribe(TOPIC) with group.id=G, enable.auto.commit=false;
   * every polled batch is printed (processed) and then its offsets are committed with
   * commitSync (at-least-once, nothing skipped). Options: group=G, name=CLIENT_ID,
   * assignor=range|roundrobin|sticky|cooperative-sticky (partition.assignment.strategy),
   * idle=SECONDS (stop after that long without records, counted from the first assignment),
   * instance=ID (group.instance.id). Classic protocol defaults (overridable as client configs):
   * group.protocol=classic, session.timeout.ms=10000, heartbeat.interval.ms=1000; with
   * group.protocol=consumer none of those three are set.
   *
   * <p>Output, flushed per line: {"ev":"assigned"|"revoked"|"lost","parts":[..],"all":[..]}
   * (all = owned afterwards), {"ev":"rec","p","o","k","v"} per record (base64),
   * {"ev":"commit","offsets":{P:NEXT}}, {"ev":"commit_error",...error}, {"ev":"poll_error",...},
   * and {"done":true,"records":N,"stopped":"signal"|"idle"} after close().
   */
  private void group() throws Exception {
    String groupId = opts.get("group");
    if (groupId == null) throw new IllegalArgumentException("group=G is required");
    long idleMs = (long) (Double.parseDouble(opts.getOrDefault("idle", "0")) * 1000);
    Properties p = base();
    p.put("client.id", opts.getOrDefault("name", "compat-java-member"));
    p.put("group.id", groupId);
    p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("allow.auto.create.topics", "false");
    p.put("fetch.max.wait.ms", "100");
    p.put("default.api.timeout.ms", "30000");
    String protocol = clientConfig.getOrDefault("group.protocol", "classic");
    if (protocol.equalsIgnoreCase("classic")) {
      p.put("group.protocol", "classic");
      p.put("session.timeout.ms", "10000");
      p.put("heartbeat.interval.ms", "1000");
      String a = opts.get("assignor");
      if (a != null) {
        p.put("partition.assignment.strategy", switch (a) {
          case "range" -> "org.apache.kafka.clients.consumer.RangeAssignor";
          case "roundrobin" -> "org.apache.kafka.clients.consumer.RoundRobinAssignor";
          case "sticky" -> "org.apache.kafka.clients.consumer.StickyAssignor";
          case "cooperative-sticky" -> "org.apache.kafka.clients.consumer.CooperativeStickyAssignor";
          default -> a;
        });
      }
    }
    if (opts.containsKey("instance")) p.put("group.instance.id", opts.get("instance"));
    p.putAll(clientConfig);

    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (GROUP_CLOSED.getCount() == 0) return; // a normal exit: System.exit's code stands
      stopping = true;
      c.wakeup();
      try {
        if (!GROUP_CLOSED.await(20, TimeUnit.SECONDS)) main.interrupt();
      } catch (InterruptedException e) {
        // exit anyway
      }
      synchronized (OUT) {
        OUT.flush();
      }
      Runtime.getRuntime().halt(0);
    }, "harness-sigterm"));

    TreeSet<Integer> owned = new TreeSet<>();
    long[] lastActivity = {-1};
    c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> tps) {
        for (TopicPartition tp : tps) owned.remove(tp.partition());
        emit("{\"ev\":\"revoked\",\"parts\":" + parts(tps) + ",\"all\":" + owned.toString().replace(" ", "") + "}");
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> tps) {
        for (TopicPartition tp : tps) owned.add(tp.partition());
        lastActivity[0] = System.nanoTime();
        emit("{\"ev\":\"assigned\",\"parts\":" + parts(tps) + ",\"all\":" + owned.toString().replace(" ", "") + "}");
      }

      @Override
      public void onPartitionsLost(Collection<TopicPartition> tps) {
        for (TopicPartition tp : tps) owned.remove(tp.partition());
        emit("{\"ev\":\"lost\",\"parts\":" + parts(tps) + ",\"all\":" + owned.toString().replace(" ", "") + "}");
      }
    });

    long count = 0;
    String stoppedBy = "signal";
    try {
      while (!stopping) {
        if (idleMs > 0 && lastActivity[0] >= 0 && (System.nanoTime() - lastActivity[0]) / 1_000_000 > idleMs) {
          stoppedBy = "idle";
          break;
        }
        ConsumerRecords<byte[], byte[]> recs;
        try {
          recs = c.poll(Duration.ofMillis(200));
        } catch (WakeupException e) {
          break;
        } catch (Exception e) {
          emit("{\"ev\":\"poll_error\"," + err(e) + "}");
          if (e instanceof org.apache.kafka.common.KafkaException && !(e instanceof org.apache.kafka.common.errors.RetriableException)
              && !(e instanceof org.apache.kafka.clients.consumer.CommitFailedException)) {
            throw e;
          }
          continue;
        }
        if (recs.isEmpty()) continue;
        lastActivity[0] = System.nanoTime();
        Map<TopicPartition, OffsetAndMetadata> next = new TreeMap<>(
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition));
        synchronized (OUT) {
          for (ConsumerRecord<byte[], byte[]> r : recs) {
            OUT.println("{\"ev\":\"rec\",\"p\":" + r.partition() + ",\"o\":" + r.offset() + ",\"k\":" + b64(r.key())
                + ",\"v\":" + b64(r.value()) + "}");
            next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            count++;
          }
          OUT.flush();
        }
        try {
          c.commitSync(next, OP);
          StringBuilder sb = new StringBuilder("{\"ev\":\"commit\",\"offsets\":{");
          String sep = "";
          for (Map.Entry<TopicPartition, OffsetAndMetadata> e : next.entrySet()) {
            sb.append(sep).append('"').append(e.getKey().partition()).append("\":").append(e.getValue().offset());
            sep = ",";
          }
          emit(sb.append("}}").toString());
        } catch (WakeupException e) {
          break;
        } catch (Exception e) {
          // e.g. CommitFailedException / RebalanceInProgressException: the records are processed
          // again by the next owner (at-least-once)
          emit("{\"ev\":\"commit_error\",\"parts\":" + parts(next.keySet()) + "," + err(e) + "}");
        }
      }
      try {
        c.close(Duration.ofSeconds(10));
      } catch (Exception e) {
        emit("{\"ev\":\"close_error\"," + err(e) + "}");
      }
      emit("{\"done\":true,\"records\":" + count + ",\"stopped\":" + str(stoppedBy) + ",\"client\":" + str(CLIENT_VERSION) + "}");
    } finally {
      GROUP_CLOSED.countDown();
    }
  }

  /** describeConsumerGroups + listConsumerGroupOffsets for group=G: one line. */
  @SuppressWarnings("deprecation")
  private void describeGroup() throws Exception {
    String groupId = opts.get("group");
    Properties p = base();
    p.put("default.api.timeout.ms", "30000");
    p.putAll(clientConfig);
    StringBuilder sb = new StringBuilder("{");
    try (Admin admin = Admin.create(p)) {
      try {
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(groupId)).all().get(30, TimeUnit.SECONDS).get(groupId);
        sb.append("\"state\":").append(str(d.state() == null ? null : d.state().name())).append(",\"assignor\":").append(str(d.partitionAssignor()))
            .append(",\"coordinator\":").append(d.coordinator() == null ? -1 : d.coordinator().id()).append(",\"members\":[");
        List<MemberDescription> ms = new ArrayList<>(d.members());
        ms.sort(Comparator.comparing(MemberDescription::clientId));
        String sep = "";
        for (MemberDescription m : ms) {
          List<TopicPartition> tps = new ArrayList<>();
          for (TopicPartition tp : m.assignment().topicPartitions()) if (tp.topic().equals(topic)) tps.add(tp);
          sb.append(sep).append("{\"client_id\":").append(str(m.clientId())).append(",\"parts\":").append(parts(tps)).append('}');
          sep = ",";
        }
        sb.append("],\"describe_error\":null");
      } catch (Exception e) {
        sb.append("\"describe_error\":{").append(err(e)).append('}');
      }
      try {
        Map<TopicPartition, OffsetAndMetadata> o = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
        sb.append(",\"offsets\":{");
        String sep = "";
        TreeMap<Integer, Long> byPartition = new TreeMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : o.entrySet()) {
          if (e.getKey().topic().equals(topic) && e.getValue() != null) byPartition.put(e.getKey().partition(), e.getValue().offset());
        }
        for (Map.Entry<Integer, Long> e : byPartition.entrySet()) {
          sb.append(sep).append('"').append(e.getKey()).append("\":").append(e.getValue());
          sep = ",";
        }
        sb.append("},\"offsets_error\":null");
      } catch (Exception e) {
        sb.append(",\"offsets_error\":{").append(err(e)).append('}');
      }
      admin.close(Duration.ofSeconds(10));
    }
    emit(sb.append('}').toString());
    done("\"done\":true,\"client\":" + str(CLIENT_VERSION));
  }

  // ------------------------------------------------------------------ helpers

  static String clientVersionString() {
    return CLIENT_VERSION;
  }

  private static String clientVersion() {
    try (var in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      Properties p = new Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "unknown");
    } catch (Exception e) {
      return "unknown";
    }
  }

  Properties base() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("client.id", "compat-java");
    p.put("request.timeout.ms", "15000");
    return p;
  }

  static void done(String body) {
    synchronized (OUT) {
      OUT.println("{" + body + "}");
    }
  }

  private static byte[] bytes(String b64) {
    return b64.equals("-") ? null : UNB64.decode(b64);
  }

  static String b64(byte[] b) {
    return b == null ? "null" : '"' + B64.encodeToString(b) + '"';
  }

  private static String ids(List<Node> nodes) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < nodes.size(); i++) sb.append(i == 0 ? "" : ",").append(nodes.get(i).id());
    return sb.append(']').toString();
  }

  /** "error": exception class, "code": Kafka error code (-1 if none), "message". */
  static String err(Throwable t) {
    while ((t instanceof ExecutionException || t.getClass().getName().endsWith("CompletionException"))
        && t.getCause() != null) {
      t = t.getCause();
    }
    return "\"error\":" + str(t.getClass().getSimpleName()) + ",\"code\":" + Errors.forException(t).code()
        + ",\"message\":" + str(String.valueOf(t.getMessage()));
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) sb.append(String.format("%02x", x));
    return sb.toString();
  }

  static String str(String s) {
    if (s == null) return "null";
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"').toString();
  }
}

package dev.tributary.compat;

import static dev.tributary.compat.Harness.done;
import static dev.tributary.compat.Harness.step;
import static dev.tributary.compat.Harness.str;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.AlterConfigsResult;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DeletedRecords;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;

/**
 * The log-management AdminClient scenarios of the Java harness: topic and broker configs
 * (DescribeConfigs, IncrementalAlterConfigs, AlterConfigs) and DeleteRecords (+ ListOffsets,
 * DescribeLogDirs). Output conventions as in {@link Harness}: one JSON line per step with its
 * fields or its error ({@code "error": class, "code": Kafka error code}), then a done line.
 */
final class LogAdmin {
  /** The topic configs every config step reports, {name: {"v": value, "src": source}}. */
  private static final List<String> WATCHED = List.of("retention.ms", "cleanup.policy", "segment.ms", "max.message.bytes");

  private final Harness h;

  LogAdmin(Harness h) {
    this.h = h;
  }

  /** "k=v,k=v" (tconfig option) → ordered map; empty for null. */
  static Map<String, String> topicConfigs(String spec) {
    Map<String, String> m = new LinkedHashMap<>();
    if (spec == null || spec.isEmpty()) return m;
    for (String kv : spec.split(",")) {
      int eq = kv.indexOf('=');
      if (eq < 0) throw new IllegalArgumentException("tconfig entry without '=': " + kv);
      m.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return m;
  }

  private Admin admin() {
    Properties p = h.base();
    p.put("default.api.timeout.ms", "30000");
    p.putAll(h.clientConfig);
    return Admin.create(p);
  }

  // ------------------------------------------------------------------ configs

  /**
   * Creates TOPIC (1 partition, retention.ms=86400000), then, one line per step:
   * describe-topic and describe-broker (includeSynonyms: every entry with its value, source,
   * read-only, sensitive and synonyms), set (SET retention.ms=3600000 + segment.ms=600000),
   * append (APPEND cleanup.policy=compact), subtract (SUBTRACT cleanup.policy=delete),
   * delete (DELETE retention.ms), validate-only (SET retention.ms=1000, validateOnly),
   * invalid-number / invalid-policy / unknown-name (SET retention.ms=not-a-number,
   * cleanup.policy=bogus, no.such.config=1: expected to fail), legacy (AlterConfigs with only
   * retention.ms=7200000, via reflection: removed from Admin in 4.0, so {"skipped": true} there),
   * unknown-topic (describeConfigs of a missing topic). Every alter step carries "after": the
   * WATCHED configs described once the expected change is visible (or after 10 s).
   */
  void configs() throws Exception {
    try (Admin admin = admin()) {
      ConfigResource topicRes = new ConfigResource(ConfigResource.Type.TOPIC, h.topic);
      NewTopic nt = new NewTopic(h.topic, 1, (short) 1).configs(Map.of("retention.ms", "86400000"));
      admin.createTopics(List.of(nt)).all().get(30, TimeUnit.SECONDS);
      // a new topic's configs can take a moment to be visible to DescribeConfigs (Kafka: metadata publish)
      awaitConfigs(admin, topicRes, Map.of("retention.ms", "86400000"));

      step("describe-topic", () -> "\"configs\":" + entries(describe(admin, topicRes, true), null));
      step("describe-broker", () -> {
        Collection<Node> nodes = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
        String id = String.valueOf(nodes.iterator().next().id());
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, id);
        return "\"broker\":" + str(id) + ",\"configs\":" + entries(describe(admin, broker, true), null);
      });

      alterStep(admin, topicRes, "set", false, Map.of("retention.ms", "3600000", "segment.ms", "600000"),
          List.of(op("retention.ms", "3600000", AlterConfigOp.OpType.SET), op("segment.ms", "600000", AlterConfigOp.OpType.SET)));
      alterStep(admin, topicRes, "append", false, Map.of("cleanup.policy", "delete,compact"),
          List.of(op("cleanup.policy", "compact", AlterConfigOp.OpType.APPEND)));
      alterStep(admin, topicRes, "subtract", false, Map.of("cleanup.policy", "compact"),
          List.of(op("cleanup.policy", "delete", AlterConfigOp.OpType.SUBTRACT)));
      Map<String, String> deleted = new HashMap<>();
      deleted.put("retention.ms", null); // no longer a topic override
      alterStep(admin, topicRes, "delete", false, deleted, List.of(op("retention.ms", null, AlterConfigOp.OpType.DELETE)));
      alterStep(admin, topicRes, "validate-only", true, Map.of(),
          List.of(op("retention.ms", "1000", AlterConfigOp.OpType.SET)));
      alterStep(admin, topicRes, "invalid-number", false, Map.of(),
          List.of(op("retention.ms", "not-a-number", AlterConfigOp.OpType.SET)));
      alterStep(admin, topicRes, "invalid-policy", false, Map.of(),
          List.of(op("cleanup.policy", "bogus", AlterConfigOp.OpType.SET)));
      alterStep(admin, topicRes, "unknown-name", false, Map.of(),
          List.of(op("no.such.config", "1", AlterConfigOp.OpType.SET)));

      step("legacy", () -> {
        Method m;
        try {
          m = Admin.class.getMethod("alterConfigs", Map.class);
        } catch (NoSuchMethodException e) {
          return "\"skipped\":true";
        }
        Config replacement = new Config(List.of(new ConfigEntry("retention.ms", "7200000")));
        try {
          ((AlterConfigsResult) m.invoke(admin, Map.of(topicRes, replacement))).all().get(30, TimeUnit.SECONDS);
        } catch (InvocationTargetException e) {
          throw (Exception) e.getCause();
        }
        Map<String, String> expect = new HashMap<>();
        expect.put("retention.ms", "7200000");
        expect.put("cleanup.policy", null); // AlterConfigs replaces the whole set of overrides
        expect.put("segment.ms", null);
        return "\"skipped\":false,\"after\":" + awaitConfigs(admin, topicRes, expect);
      });

      step("unknown-topic", () -> {
        ConfigResource missing = new ConfigResource(ConfigResource.Type.TOPIC, h.topic + "-missing");
        return "\"configs\":" + entries(describe(admin, missing, false), null);
      });
      admin.close(Duration.ofSeconds(10));
    }
    done("\"done\":true,\"client\":" + str(Harness.clientVersionString()));
  }

  private static AlterConfigOp op(String name, String value, AlterConfigOp.OpType type) {
    return new AlterConfigOp(new ConfigEntry(name, value), type);
  }

  private void alterStep(Admin admin, ConfigResource res, String name, boolean validateOnly,
      Map<String, String> expect, Collection<AlterConfigOp> ops) {
    step(name, () -> {
      admin.incrementalAlterConfigs(Map.of(res, ops), new AlterConfigsOptions().validateOnly(validateOnly))
          .all().get(30, TimeUnit.SECONDS);
      return "\"after\":" + awaitConfigs(admin, res, expect);
    });
  }

  private static Config describe(Admin admin, ConfigResource res, boolean synonyms) throws Exception {
    return admin.describeConfigs(List.of(res), new DescribeConfigsOptions().includeSynonyms(synonyms))
        .all().get(30, TimeUnit.SECONDS).get(res);
  }

  /**
   * Describe until every expected config has its value (null: not a topic override, i.e. its
   * source is not DYNAMIC_TOPIC_CONFIG), at most 10 s; returns the WATCHED entries last seen.
   */
  private static String awaitConfigs(Admin admin, ConfigResource res, Map<String, String> expect) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (;;) {
      Config c = describe(admin, res, false);
      boolean ok = true;
      for (Map.Entry<String, String> e : expect.entrySet()) {
        ConfigEntry ce = c.get(e.getKey());
        if (e.getValue() == null) ok &= ce == null || ce.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG;
        else ok &= ce != null && e.getValue().equals(ce.value());
      }
      if (ok || System.nanoTime() > deadline) return entries(c, WATCHED);
      Thread.sleep(100);
    }
  }

  /** {name: {"v","src","ro","sensitive","syn":[[name, value, source]...]}} for `only` (all if null). */
  private static String entries(Config c, List<String> only) {
    StringBuilder sb = new StringBuilder("{");
    String sep = "";
    for (ConfigEntry e : c.entries()) {
      if (only != null && !only.contains(e.name())) continue;
      sb.append(sep).append(str(e.name())).append(":{\"v\":").append(str(e.value()))
          .append(",\"src\":").append(str(e.source().name()))
          .append(",\"ro\":").append(e.isReadOnly())
          .append(",\"sensitive\":").append(e.isSensitive());
      if (!e.synonyms().isEmpty()) {
        sb.append(",\"syn\":[");
        String s2 = "";
        for (ConfigEntry.ConfigSynonym s : e.synonyms()) {
          sb.append(s2).append('[').append(str(s.name())).append(',').append(str(s.value())).append(',')
              .append(str(s.source().name())).append(']');
          s2 = ",";
        }
        sb.append(']');
      }
      sb.append('}');
      sep = ",";
    }
    return sb.append('}').toString();
  }

  // ------------------------------------------------------------------ delete records

  /**
   * before=P:OFFSET[,P:OFFSET...] (OFFSET -1: up to the high watermark). Lines:
   * {"step":"delete","parts":{P:{"low":N}|{"error",...}}}, then {"step":"offsets","parts":
   * {P:{"earliest":N,"latest":N}}} (listOffsets), then {"step":"log-dirs","dirs":[{"path",
   * "error","parts":{P:size}}]} (describeLogDirs of the first broker, this topic's replicas).
   */
  void deleteRecords() throws Exception {
    Map<TopicPartition, RecordsToDelete> req = new LinkedHashMap<>();
    for (String spec : h.opts.getOrDefault("before", "").split(",")) {
      if (spec.isEmpty()) continue;
      String[] f = spec.split(":");
      req.put(new TopicPartition(h.topic, Integer.parseInt(f[0])), RecordsToDelete.beforeOffset(Long.parseLong(f[1])));
    }
    try (Admin admin = admin()) {
      step("delete", () -> {
        Map<TopicPartition, KafkaFuture<DeletedRecords>> low = admin.deleteRecords(req).lowWatermarks();
        StringBuilder sb = new StringBuilder("\"parts\":{");
        String sep = "";
        for (TopicPartition tp : req.keySet()) {
          sb.append(sep).append('"').append(tp.partition()).append("\":{");
          try {
            long lw = low.get(tp).get(30, TimeUnit.SECONDS).lowWatermark();
            sb.append("\"low\":").append(lw);
          } catch (Exception e) {
            sb.append(Harness.err(e));
          }
          sb.append('}');
          sep = ",";
        }
        return sb.append('}').toString();
      });
      step("offsets", () -> {
        List<TopicPartition> tps = new ArrayList<>();
        admin.describeTopics(List.of(h.topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(h.topic).partitions()
            .forEach(p -> tps.add(new TopicPartition(h.topic, p.partition())));
        Map<TopicPartition, OffsetSpec> e = new HashMap<>();
        Map<TopicPartition, OffsetSpec> l = new HashMap<>();
        for (TopicPartition tp : tps) {
          e.put(tp, OffsetSpec.earliest());
          l.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, ListOffsetsResultInfo> earliest = admin.listOffsets(e).all().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, ListOffsetsResultInfo> latest = admin.listOffsets(l).all().get(30, TimeUnit.SECONDS);
        StringBuilder sb = new StringBuilder("\"parts\":{");
        String sep = "";
        tps.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
        for (TopicPartition tp : tps) {
          sb.append(sep).append('"').append(tp.partition()).append("\":{\"earliest\":").append(earliest.get(tp).offset())
              .append(",\"latest\":").append(latest.get(tp).offset()).append('}');
          sep = ",";
        }
        return sb.append('}').toString();
      });
      step("log-dirs", () -> {
        int id = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next().id();
        Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(id)).allDescriptions()
            .get(30, TimeUnit.SECONDS).get(id);
        StringBuilder sb = new StringBuilder("\"dirs\":[");
        String sep = "";
        for (Map.Entry<String, LogDirDescription> d : dirs.entrySet()) {
          TreeMap<Integer, Long> sizes = new TreeMap<>();
          for (Map.Entry<TopicPartition, ReplicaInfo> r : d.getValue().replicaInfos().entrySet()) {
            if (r.getKey().topic().equals(h.topic)) sizes.put(r.getKey().partition(), r.getValue().size());
          }
          sb.append(sep).append("{\"path\":").append(str(d.getKey())).append(",\"error\":")
              .append(str(d.getValue().error() == null ? null : d.getValue().error().getClass().getSimpleName()))
              .append(",\"parts\":{");
          String s2 = "";
          for (Map.Entry<Integer, Long> s : sizes.entrySet()) {
            sb.append(s2).append('"').append(s.getKey()).append("\":").append(s.getValue());
            s2 = ",";
          }
          sb.append("}}");
          sep = ",";
        }
        return sb.append(']').toString();
      });
      admin.close(Duration.ofSeconds(10));
    }
    done("\"done\":true,\"client\":" + str(Harness.clientVersionString()));
  }
}

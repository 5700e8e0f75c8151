/*
 * rdkperf: a librdkafka-based load generator for Tributary's benchmark suite (npm run bench).
 *
 *   rdkperf produce --bootstrap B --topic T --records N --size S [--acks 1|-1] [--time-limit SEC]
 *                   [--spread M] [--set k=v]...
 *   rdkperf consume --bootstrap B --topic T --records N [--time-limit SEC] [--set k=v]...
 *   rdkperf e2e     --bootstrap B --topic T --rate R --seconds D --size S [--acks 1|-1]
 *                   [--warmup SEC] [--set k=v] [--pset k=v] [--cset k=v]...
 *   rdkperf --version
 *
 * Every mode prints exactly one JSON line on stdout when it ends; diagnostics go to stderr.
 * Exit codes: 0 ok, 1 fatal (no broker / topic within 15 s, fatal client error), 2 bad arguments.
 * See README.md in this directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define METADATA_TIMEOUT_MS 15000
#define MAX_SETS 128

/* ------------------------------------------------------------------------------------------ */
/* small utilities                                                                              */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until_ns(int64_t t) {
  struct timespec ts = {.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static void logmsg(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("[rdkperf] ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void die(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("[rdkperf] ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(code);
}

static uint64_t rng_state;
static uint64_t rng_next(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

static void rng_seed(void) {
  rng_state = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
  if (!rng_state) rng_state = 1;
}

static void fill_random(unsigned char *buf, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t r = rng_next();
    size_t k = n - i < 8 ? n - i : 8;
    memcpy(buf + i, &r, k);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* nearest-rank percentile of a sorted array */
static double pct(const double *v, size_t n, double p) {
  if (!n) return 0;
  size_t rank = (size_t)ceil(p / 100.0 * (double)n);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return v[rank - 1];
}

/* growable array of doubles */
typedef struct {
  double *v;
  size_t n, cap;
} dvec;

static void dvec_push(dvec *d, double x) {
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 4096;
    d->v = realloc(d->v, d->cap * sizeof(double));
    if (!d->v) die(1, "out of memory");
  }
  d->v[d->n++] = x;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON output: one line built in a buffer                                                      */

typedef struct {
  char *s;
  size_t n, cap;
  int need_comma;
} jbuf;

static void jb_raw(jbuf *j, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    size_t room = j->cap - j->n;
    va_start(ap, fmt);
    int w = vsnprintf(j->s ? j->s + j->n : NULL, room, fmt, ap);
    va_end(ap);
    if (w < 0) die(1, "vsnprintf failed");
    if ((size_t)w < room) {
      j->n += (size_t)w;
      return;
    }
    j->cap = (j->cap + (size_t)w + 1) * 2;
    j->s = realloc(j->s, j->cap);
    if (!j->s) die(1, "out of memory");
  }
}

static void jb_str(jbuf *j, const char *s) {
  jb_raw(j, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') jb_raw(j, "\\%c", *p);
    else if (*p < 0x20) jb_raw(j, "\\u%04x", *p);
    else jb_raw(j, "%c", *p);
  }
  jb_raw(j, "\"");
}

static void jb_key(jbuf *j, const char *k) {
  if (j->need_comma) jb_raw(j, ",");
  jb_str(j, k);
  jb_raw(j, ":");
  j->need_comma = 1;
}
static void jb_open(jbuf *j, const char *k) {
  if (k) jb_key(j, k);
  else if (j->need_comma) jb_raw(j, ",");
  jb_raw(j, "{");
  j->need_comma = 0;
}
static void jb_close(jbuf *j) {
  jb_raw(j, "}");
  j->need_comma = 1;
}
static void jb_int(jbuf *j, const char *k, int64_t v) {
  jb_key(j, k);
  jb_raw(j, "%" PRId64, v);
}
static void jb_num(jbuf *j, const char *k, double v) {
  jb_key(j, k);
  if (isfinite(v)) jb_raw(j, "%.6g", v);
  else jb_raw(j, "null");
}
static void jb_fixed(jbuf *j, const char *k, double v, int decimals) {
  jb_key(j, k);
  if (isfinite(v)) jb_raw(j, "%.*f", decimals, v);
  else jb_raw(j, "null");
}
static void jb_kstr(jbuf *j, const char *k, const char *v) {
  jb_key(j, k);
  jb_str(j, v);
}
static void jb_null(jbuf *j, const char *k) {
  jb_key(j, k);
  jb_raw(j, "null");
}
static void jb_print(jbuf *j) {
  fwrite(j->s, 1, j->n, stdout);
  fputc('\n', stdout);
  fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* arguments                                                                                    */

typedef struct {
  const char *key, *val;
  int scope; /* 0 = both clients, 1 = producer only, 2 = consumer only */
} kv;

typedef struct {
  const char *mode;
  const char *bootstrap;
  const char *topic;
  long long records;
  long long size;
  const char *acks;
  double time_limit; /* seconds, 0 = none */
  double rate;
  double seconds;
  double warmup;
  long long spread; /* 0 = librdkafka partitioner, M = explicit round-robin, next partition every M msgs */
  int spread_set;
  kv sets[MAX_SETS];
  int nsets;
} args_t;

static void usage(const char *why) {
  fprintf(stderr,
          "[rdkperf] %s\n"
          "usage:\n"
          "  rdkperf produce --bootstrap B --topic T --records N --size S [--acks 1|-1|0]\n"
          "                  [--time-limit SEC] [--spread M] [--set key=value]...\n"
          "  rdkperf consume --bootstrap B --topic T --records N [--time-limit SEC] [--set key=value]...\n"
          "  rdkperf e2e --bootstrap B --topic T --rate R --seconds D --size S [--acks 1|-1|0]\n"
          "              [--warmup SEC] [--set key=value] [--pset key=value] [--cset key=value]...\n"
          "  rdkperf --version\n",
          why);
  exit(2);
}

static long long parse_ll(const char *opt, const char *s, long long min) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s || v < min) {
    char msg[256];
    snprintf(msg, sizeof msg, "bad value for %s: '%s' (integer >= %lld expected)", opt, s, min);
    usage(msg);
  }
  return v;
}

static double parse_d(const char *opt, const char *s, double min) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || end == s || !isfinite(v) || v < min) {
    char msg[256];
    snprintf(msg, sizeof msg, "bad value for %s: '%s' (number >= %g expected)", opt, s, min);
    usage(msg);
  }
  return v;
}

static void parse_args(int argc, char **argv, args_t *a) {
  memset(a, 0, sizeof *a);
  a->records = -1;
  a->size = -1;
  a->rate = -1;
  a->seconds = -1;
  a->warmup = 1;
  a->spread = 1000;
  a->acks = NULL;
  a->mode = argv[1];
  for (int i = 2; i < argc; i++) {
    const char *o = argv[i];
    if (i + 1 >= argc) {
      char msg[256];
      snprintf(msg, sizeof msg, "missing value for %s", o);
      usage(msg);
    }
    const char *v = argv[++i];
    if (!strcmp(o, "--bootstrap")) a->bootstrap = v;
    else if (!strcmp(o, "--topic")) a->topic = v;
    else if (!strcmp(o, "--records")) a->records = parse_ll(o, v, 1);
    else if (!strcmp(o, "--size")) a->size = parse_ll(o, v, 0);
    else if (!strcmp(o, "--acks")) {
      if (strcmp(v, "1") && strcmp(v, "-1") && strcmp(v, "0") && strcmp(v, "all"))
        usage("--acks must be 0, 1, -1 or all");
      a->acks = !strcmp(v, "all") ? "-1" : v;
    } else if (!strcmp(o, "--time-limit")) a->time_limit = parse_d(o, v, 0);
    else if (!strcmp(o, "--rate")) a->rate = parse_d(o, v, 1e-9);
    else if (!strcmp(o, "--seconds")) a->seconds = parse_d(o, v, 1e-9);
    else if (!strcmp(o, "--warmup")) a->warmup = parse_d(o, v, 0);
    else if (!strcmp(o, "--spread")) {
      a->spread = parse_ll(o, v, 0);
      a->spread_set = 1;
    }
    else if (!strcmp(o, "--set") || !strcmp(o, "--pset") || !strcmp(o, "--cset")) {
      const char *eq = strchr(v, '=');
      if (!eq || eq == v) usage("--set expects key=value");
      if (a->nsets == MAX_SETS) usage("too many --set options");
      kv *s = &a->sets[a->nsets++];
      s->key = strndup(v, (size_t)(eq - v));
      s->val = eq + 1;
      s->scope = o[2] == 'p' ? 1 : o[2] == 'c' ? 2 : 0;
    } else {
      char msg[256];
      snprintf(msg, sizeof msg, "unknown option %s", o);
      usage(msg);
    }
  }
  if (!a->bootstrap) usage("--bootstrap is required");
  if (!a->topic) usage("--topic is required");
}

/* ------------------------------------------------------------------------------------------ */
/* librdkafka setup                                                                             */

static volatile int g_all_brokers_down;
static const char *g_bootstrap = "";
static volatile int g_fatal;

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
  (void)opaque;
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) g_all_brokers_down = 1;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    logmsg("FATAL client error: %s", buf);
    g_fatal = 1;
    return;
  }
  logmsg("client error: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
    die(2, "bad configuration %s=%s: %s", k, v, err);
}

/* scope: 1 = producer, 2 = consumer */
static rd_kafka_conf_t *make_conf(const args_t *a, int scope) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  conf_set(conf, "bootstrap.servers", a->bootstrap);
  conf_set(conf, "client.id", scope == 1 ? "rdkperf-producer" : "rdkperf-consumer");
  if (scope == 1) {
    if (a->acks) conf_set(conf, "acks", a->acks);
  } else {
    char gid[96];
    snprintf(gid, sizeof gid, "rdkperf-%d-%" PRIx64, (int)getpid(), rng_next());
    conf_set(conf, "group.id", gid); /* needed by the high-level API; never joined */
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.auto.offset.store", "false");
    conf_set(conf, "enable.partition.eof", "false");
  }
  for (int i = 0; i < a->nsets; i++)
    if (a->sets[i].scope == 0 || a->sets[i].scope == scope) conf_set(conf, a->sets[i].key, a->sets[i].val);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  return conf;
}

/* The effective values of a few relevant properties plus every --set key, as a JSON object. */
static void json_config(jbuf *j, const char *name, const rd_kafka_conf_t *conf, const args_t *a, int scope) {
  static const char *prod_keys[] = {"acks", "linger.ms", "batch.num.messages", "batch.size",
                                    "compression.codec", "enable.idempotence", "partitioner",
                                    "sticky.partitioning.linger.ms", "queue.buffering.max.messages",
                                    "queue.buffering.max.kbytes", "max.in.flight.requests.per.connection", NULL};
  static const char *cons_keys[] = {"fetch.wait.max.ms", "fetch.min.bytes", "fetch.max.bytes",
                                    "max.partition.fetch.bytes", "queued.min.messages",
                                    "queued.max.messages.kbytes", "check.crcs", NULL};
  const char **keys = scope == 1 ? prod_keys : cons_keys;
  jb_open(j, name);
  char val[1024];
  for (int i = 0; keys[i]; i++) {
    size_t sz = sizeof val;
    if (rd_kafka_conf_get(conf, keys[i], val, &sz) == RD_KAFKA_CONF_OK) jb_kstr(j, keys[i], val);
  }
  for (int i = 0; i < a->nsets; i++) {
    if (!(a->sets[i].scope == 0 || a->sets[i].scope == scope)) continue;
    int dup = 0;
    for (int k = 0; keys[k]; k++)
      if (!strcmp(keys[k], a->sets[i].key)) dup = 1;
    for (int k = 0; k < i; k++)
      if (!strcmp(a->sets[k].key, a->sets[i].key)) dup = 1;
    if (dup) continue;
    size_t sz = sizeof val;
    if (rd_kafka_conf_get(conf, a->sets[i].key, val, &sz) == RD_KAFKA_CONF_OK) jb_kstr(j, a->sets[i].key, val);
    else jb_kstr(j, a->sets[i].key, a->sets[i].val);
  }
  jb_close(j);
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
  char err[512];
  rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) die(2, "rd_kafka_new failed: %s", err);
  return rk;
}

/* Waits (up to 15 s) until the topic's metadata lists it without error, and returns its
   partition count. Exits 1 when no broker answers or the topic does not appear. */
static int wait_topic(rd_kafka_t *rk, const char *topic) {
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  if (!rkt) die(1, "rd_kafka_topic_new(%s): %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
  int64_t deadline = now_ns() + (int64_t)METADATA_TIMEOUT_MS * 1000000;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
  int got_answer = 0;
  for (;;) {
    int64_t left_ms = (deadline - now_ns()) / 1000000;
    if (left_ms <= 0) break;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, (int)left_ms);
    if (err) {
      last = err;
    } else {
      got_answer = 1;
      int parts = -1;
      for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, topic)) continue;
        if (md->topics[i].err) last = md->topics[i].err;
        else if (md->topics[i].partition_cnt > 0) {
          parts = md->topics[i].partition_cnt;
          for (int p = 0; p < md->topics[i].partition_cnt; p++)
            if (md->topics[i].partitions[p].leader < 0) parts = -1; /* no leader yet */
        }
      }
      rd_kafka_metadata_destroy(md);
      if (parts > 0) {
        rd_kafka_topic_destroy(rkt);
        return parts;
      }
    }
    usleep(200 * 1000);
  }
  rd_kafka_topic_destroy(rkt);
  if (!got_answer) die(1, "no broker at %s answered metadata within %d s (%s)", g_bootstrap,
                       METADATA_TIMEOUT_MS / 1000, rd_kafka_err2str(last));
  die(1, "topic '%s' not available within %d s: %s", topic, METADATA_TIMEOUT_MS / 1000, rd_kafka_err2str(last));
  return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* produce                                                                                      */

typedef struct {
  int64_t delivered, bytes, errors, dr_count;
  int64_t last_dr_ns;
  dvec ack_ms;
} prod_stats;

static prod_stats g_ps;

/* msg_opaque carries the produce-call time (ns) of sampled messages, 0 for others */
static void produce_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  int64_t t = now_ns();
  g_ps.dr_count++;
  g_ps.last_dr_ns = t;
  if (m->err) {
    if (g_ps.errors < 10) logmsg("delivery failed: %s", rd_kafka_err2str(m->err));
    g_ps.errors++;
    return;
  }
  g_ps.delivered++;
  g_ps.bytes += (int64_t)m->len;
  if (m->_private) dvec_push(&g_ps.ack_ms, (double)(t - (int64_t)(intptr_t)m->_private) / 1e6);
}

static int cmd_produce(const args_t *a) {
  if (a->records < 1) usage("produce: --records is required");
  if (a->size < 0) usage("produce: --size is required");
  rd_kafka_conf_t *conf = make_conf(a, 1);
  rd_kafka_conf_set_dr_msg_cb(conf, produce_dr_cb);
  rd_kafka_conf_t *shown = rd_kafka_conf_dup(conf);
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
  int parts = wait_topic(rk, a->topic);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, a->topic, NULL);

  /* one pre-generated random payload, referenced (not copied) by every message */
  size_t size = (size_t)a->size;
  unsigned char *payload = malloc(size ? size : 1);
  fill_random(payload, size);

  const int64_t sample_every = 100;
  int64_t produced = 0, produce_errors = 0;
  int64_t t_start = now_ns();
  int64_t t_limit = a->time_limit > 0 ? t_start + (int64_t)(a->time_limit * 1e9) : INT64_MAX;
  int stopped_early = 0;
  for (int64_t i = 0; i < a->records; i++) {
    int32_t part = RD_KAFKA_PARTITION_UA;
    if (a->spread > 0) part = (int32_t)((i / a->spread) % parts);
    for (;;) {
      void *opq = (i % sample_every == 0) ? (void *)(intptr_t)now_ns() : NULL;
      if (rd_kafka_produce(rkt, part, 0, payload, size, NULL, 0, opq) == 0) break;
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 1);
        if (g_fatal) break;
        continue;
      }
      die(1, "produce failed: %s", rd_kafka_err2str(err));
    }
    if (g_fatal) break;
    produced++;
    if ((i & 1023) == 0) {
      rd_kafka_poll(rk, 0);
      if (now_ns() >= t_limit) {
        stopped_early = i + 1 < a->records;
        break;
      }
    }
  }
  /* flush: wait for all outstanding delivery reports (bounded by the time limit, if any) */
  for (;;) {
    if (rd_kafka_outq_len(rk) == 0 && g_ps.dr_count >= produced) break;
    if (g_fatal) break;
    int64_t left = t_limit == INT64_MAX ? 1000 : (t_limit + 30000000000LL - now_ns()) / 1000000;
    if (left <= 0) {
      logmsg("flush timed out with %d messages outstanding", rd_kafka_outq_len(rk));
      break;
    }
    rd_kafka_flush(rk, left > 1000 ? 1000 : (int)left);
  }
  int64_t t_end = g_ps.last_dr_ns > t_start ? g_ps.last_dr_ns : now_ns();
  double secs = (double)(t_end - t_start) / 1e9;
  if (stopped_early) logmsg("time limit reached after %" PRId64 " of %lld records", produced, a->records);

  qsort(g_ps.ack_ms.v, g_ps.ack_ms.n, sizeof(double), cmp_double);
  jbuf j = {0};
  jb_open(&j, NULL);
  jb_kstr(&j, "mode", "produce");
  jb_int(&j, "records", g_ps.delivered);
  jb_int(&j, "bytes", g_ps.bytes);
  jb_fixed(&j, "seconds", secs, 6);
  jb_int(&j, "errors", g_ps.errors + produce_errors + (produced - g_ps.dr_count));
  jb_fixed(&j, "recordsPerSec", secs > 0 ? (double)g_ps.delivered / secs : 0, 1);
  jb_fixed(&j, "mbPerSec", secs > 0 ? (double)g_ps.bytes / secs / 1e6 : 0, 3);
  jb_open(&j, "ackLatencyMs");
  if (g_ps.ack_ms.n) {
    jb_fixed(&j, "p50", pct(g_ps.ack_ms.v, g_ps.ack_ms.n, 50), 3);
    jb_fixed(&j, "p99", pct(g_ps.ack_ms.v, g_ps.ack_ms.n, 99), 3);
    jb_fixed(&j, "max", g_ps.ack_ms.v[g_ps.ack_ms.n - 1], 3);
  } else {
    jb_null(&j, "p50");
    jb_null(&j, "p99");
    jb_null(&j, "max");
  }
  jb_int(&j, "samples", (int64_t)g_ps.ack_ms.n);
  jb_close(&j);
  jb_int(&j, "requested", a->records);
  jb_int(&j, "partitions", parts);
  jb_kstr(&j, "partitioning", a->spread > 0 ? "round-robin" : "librdkafka");
  jb_int(&j, "spread", a->spread);
  jb_int(&j, "size", a->size);
  json_config(&j, "config", shown, a, 1);
  jb_kstr(&j, "librdkafka", rd_kafka_version_str());
  jb_close(&j);
  jb_print(&j);

  rd_kafka_conf_destroy(shown);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  free(payload);
  return g_fatal ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* consumer helpers                                                                             */

/* Assigns every partition of the topic. start: an offset or RD_KAFKA_OFFSET_BEGINNING. When
   hw_start is set, each partition starts at its current high watermark (queried explicitly, so
   that anything produced afterwards is read: no race with a lazily-resolved OFFSET_END). */
static void assign_all(rd_kafka_t *rk, const char *topic, int parts, int64_t start, int hw_start) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
  for (int p = 0; p < parts; p++) {
    int64_t off = start;
    if (hw_start) {
      int64_t lo = 0, hi = 0;
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
      int64_t deadline = now_ns() + (int64_t)METADATA_TIMEOUT_MS * 1000000;
      do {
        err = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000);
        if (err) usleep(100 * 1000);
      } while (err && now_ns() < deadline);
      if (err) die(1, "query_watermark_offsets(%s [%d]): %s", topic, p, rd_kafka_err2str(err));
      off = hi;
    }
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = off;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
  if (err) die(1, "assign: %s", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(l);
}

static int msg_error_is_fatal(rd_kafka_t *rk, const rd_kafka_message_t *m) {
  (void)rk;
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return 0;
  logmsg("consumer error: %s", rd_kafka_message_errstr(m));
  return m->err == RD_KAFKA_RESP_ERR__FATAL;
}

/* ------------------------------------------------------------------------------------------ */
/* consume                                                                                      */

static int cmd_consume(const args_t *a) {
  if (a->records < 1) usage("consume: --records is required");
  rd_kafka_conf_t *conf = make_conf(a, 2);
  rd_kafka_conf_t *shown = rd_kafka_conf_dup(conf);
  rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  int parts = wait_topic(rk, a->topic);

  double limit = a->time_limit > 0 ? a->time_limit : 120;
  int64_t t_assign = now_ns();
  int64_t t_limit = t_assign + (int64_t)(limit * 1e9);
  assign_all(rk, a->topic, parts, RD_KAFKA_OFFSET_BEGINNING, 0);

  int64_t records = 0, bytes = 0, errors = 0, t_first = 0, t_last = 0;
  int fatal = 0;
  while (records < a->records) {
    int64_t t = now_ns();
    if (t >= t_limit) {
      logmsg("time limit reached after %" PRId64 " of %lld records", records, a->records);
      break;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      errors++;
      if (msg_error_is_fatal(rk, m)) fatal = 1;
      rd_kafka_message_destroy(m);
      if (fatal) break;
      continue;
    }
    t_last = now_ns();
    if (!t_first) t_first = t_last;
    records++;
    bytes += (int64_t)m->len;
    rd_kafka_message_destroy(m);
  }
  if (!t_last) t_last = now_ns();
  double secs = (double)(t_last - t_assign) / 1e9;

  jbuf j = {0};
  jb_open(&j, NULL);
  jb_kstr(&j, "mode", "consume");
  jb_int(&j, "records", records);
  jb_int(&j, "bytes", bytes);
  jb_fixed(&j, "seconds", secs, 6);
  jb_fixed(&j, "recordsPerSec", secs > 0 ? (double)records / secs : 0, 1);
  jb_fixed(&j, "mbPerSec", secs > 0 ? (double)bytes / secs / 1e6 : 0, 3);
  if (t_first) jb_fixed(&j, "firstRecordMs", (double)(t_first - t_assign) / 1e6, 3);
  else jb_null(&j, "firstRecordMs");
  jb_int(&j, "requested", a->records);
  jb_key(&j, "complete");
  jb_raw(&j, records >= a->records ? "true" : "false");
  jb_int(&j, "errors", errors);
  jb_int(&j, "partitions", parts);
  json_config(&j, "config", shown, a, 2);
  jb_kstr(&j, "librdkafka", rd_kafka_version_str());
  jb_close(&j);
  jb_print(&j);

  rd_kafka_conf_destroy(shown);
  rd_kafka_assign(rk, NULL); /* no group was joined, nothing to commit: skip consumer_close */
  rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  return fatal || g_fatal ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* e2e: open-loop end-to-end latency                                                            */

/* payload header (little-endian, host order is fine: same process): intended send time (ns,
   CLOCK_MONOTONIC), sequence number, run id; the rest is random filler */
#define HDR_SIZE 16

typedef struct {
  const args_t *a;
  rd_kafka_t *prod, *cons;
  int64_t n;            /* messages offered */
  int64_t t0;           /* schedule origin */
  int64_t warm_ns;      /* messages intended before t0 + warm_ns are not measured */
  uint32_t run_id;
  volatile int stop_consumer;
  volatile int64_t sent_calls; /* produce calls made */
  /* consumer side */
  unsigned char *seen;
  int64_t received, dups, foreign, cons_errors;
  volatile int64_t received_pub;
  double *lat;
  size_t nlat;
  int cons_fatal;
  /* producer side */
  int64_t delivered, dr_errors;
  int64_t max_lag_ns, last_send_ns;
} e2e_t;

static void e2e_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  e2e_t *e = opaque;
  if (m->err) {
    if (e->dr_errors < 10) logmsg("delivery failed: %s", rd_kafka_err2str(m->err));
    e->dr_errors++;
  } else {
    e->delivered++;
  }
}

static void *e2e_consumer(void *arg) {
  e2e_t *e = arg;
  while (!e->stop_consumer) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(e->cons, 50);
    if (!m) continue;
    int64_t t = now_ns();
    if (m->err) {
      e->cons_errors++;
      if (msg_error_is_fatal(e->cons, m)) {
        e->cons_fatal = 1;
        rd_kafka_message_destroy(m);
        break;
      }
      rd_kafka_message_destroy(m);
      continue;
    }
    if (m->len < HDR_SIZE) {
      e->foreign++;
      rd_kafka_message_destroy(m);
      continue;
    }
    int64_t intended;
    uint32_t seq, run;
    memcpy(&intended, (const char *)m->payload, 8);
    memcpy(&seq, (const char *)m->payload + 8, 4);
    memcpy(&run, (const char *)m->payload + 12, 4);
    rd_kafka_message_destroy(m);
    if (run != e->run_id || (int64_t)seq >= e->n) {
      e->foreign++;
      continue;
    }
    if (e->seen[seq]) {
      e->dups++;
      continue;
    }
    e->seen[seq] = 1;
    e->received++;
    e->received_pub = e->received;
    if (intended >= e->t0 + e->warm_ns) e->lat[e->nlat++] = (double)(t - intended) / 1e6;
  }
  return NULL;
}

static int cmd_e2e(const args_t *a) {
  if (a->rate <= 0) usage("e2e: --rate is required");
  if (a->seconds <= 0) usage("e2e: --seconds is required");
  if (a->size < HDR_SIZE) usage("e2e: --size is required and must be >= 16");
  double offered_d = ceil(a->rate * a->seconds - 1e-9);
  if (offered_d > 4e9) usage("e2e: rate x seconds too large");
  e2e_t e;
  memset(&e, 0, sizeof e);
  e.a = a;
  e.n = (int64_t)offered_d;
  e.warm_ns = (int64_t)(a->warmup * 1e9);
  e.run_id = (uint32_t)rng_next();
  e.seen = calloc((size_t)e.n, 1);
  e.lat = malloc((size_t)e.n * sizeof(double));
  if (!e.seen || !e.lat) die(1, "out of memory");

  rd_kafka_conf_t *pconf = make_conf(a, 1);
  rd_kafka_conf_set_dr_msg_cb(pconf, e2e_dr_cb);
  rd_kafka_conf_set_opaque(pconf, &e);
  rd_kafka_conf_t *pshown = rd_kafka_conf_dup(pconf);
  rd_kafka_conf_t *cconf = make_conf(a, 2);
  rd_kafka_conf_t *cshown = rd_kafka_conf_dup(cconf);
  e.prod = new_client(RD_KAFKA_PRODUCER, pconf);
  e.cons = new_client(RD_KAFKA_CONSUMER, cconf);
  rd_kafka_poll_set_consumer(e.cons);
  int parts = wait_topic(e.cons, a->topic);
  (void)wait_topic(e.prod, a->topic); /* also opens the producer's broker connections */
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(e.prod, a->topic, NULL);

  /* start at each partition's current high watermark: every message produced from now on is
     at or after it, so none can be skipped however long the consumer takes to start fetching */
  assign_all(e.cons, a->topic, parts, 0, 1);
  pthread_t th;
  if (pthread_create(&th, NULL, e2e_consumer, &e)) die(1, "pthread_create failed");
  /* let the consumer connect and issue its first fetches before the clock starts */
  usleep(500 * 1000);

  size_t size = (size_t)a->size;
  unsigned char *buf = malloc(size);
  fill_random(buf, size);
  const double ns_per_msg = 1e9 / a->rate;
  const long long spread = a->spread_set ? a->spread : 0; /* e2e default: librdkafka's partitioner */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* wake-ups within ~1 us of the schedule, not 50 us */
  e.t0 = now_ns() + 1000000;             /* 1 ms from now */
  for (int64_t i = 0; i < e.n; i++) {
    int64_t intended = e.t0 + (int64_t)llround((double)i * ns_per_msg);
    int64_t t = now_ns();
    if (t < intended) sleep_until_ns(intended);
    else if (t - intended > e.max_lag_ns) e.max_lag_ns = t - intended;
    uint32_t seq = (uint32_t)i;
    memcpy(buf, &intended, 8);
    memcpy(buf + 8, &seq, 4);
    memcpy(buf + 12, &e.run_id, 4);
    int32_t part = spread > 0 ? (int32_t)((i / spread) % parts) : RD_KAFKA_PARTITION_UA;
    for (;;) {
      if (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, buf, size, NULL, 0, NULL) == 0) break;
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die(1, "produce failed: %s", rd_kafka_err2str(err));
      rd_kafka_poll(e.prod, 1);
    }
    e.sent_calls = i + 1;
    rd_kafka_poll(e.prod, 0);
    if (g_fatal) break;
  }
  e.last_send_ns = now_ns();
  /* flush delivery reports (bounded), then let the consumer drain for up to 5 s */
  int64_t flush_deadline = now_ns() + 30000000000LL;
  while (rd_kafka_outq_len(e.prod) > 0 && now_ns() < flush_deadline && !g_fatal) rd_kafka_flush(e.prod, 100);
  rd_kafka_poll(e.prod, 0);
  int64_t drain_deadline = now_ns() + 5000000000LL;
  while (e.received_pub < e.delivered && now_ns() < drain_deadline && !e.cons_fatal) usleep(10 * 1000);
  e.stop_consumer = 1;
  pthread_join(th, NULL);

  double span = (double)(e.last_send_ns - e.t0) / 1e9;
  double denom = span > a->seconds ? span : a->seconds;
  qsort(e.lat, e.nlat, sizeof(double), cmp_double);
  double sum = 0;
  for (size_t i = 0; i < e.nlat; i++) sum += e.lat[i];

  jbuf j = {0};
  jb_open(&j, NULL);
  jb_kstr(&j, "mode", "e2e");
  jb_num(&j, "rate", a->rate);
  jb_int(&j, "offered", e.n);
  jb_int(&j, "sent", e.delivered);
  jb_int(&j, "received", e.received);
  jb_int(&j, "lost", e.delivered - e.received);
  jb_num(&j, "seconds", a->seconds);
  jb_fixed(&j, "achievedRate", (double)e.delivered / denom, 1);
  jb_open(&j, "latencyMs");
  if (e.nlat) {
    jb_fixed(&j, "p50", pct(e.lat, e.nlat, 50), 3);
    jb_fixed(&j, "p90", pct(e.lat, e.nlat, 90), 3);
    jb_fixed(&j, "p99", pct(e.lat, e.nlat, 99), 3);
    jb_fixed(&j, "p999", pct(e.lat, e.nlat, 99.9), 3);
    jb_fixed(&j, "max", e.lat[e.nlat - 1], 3);
    jb_fixed(&j, "mean", sum / (double)e.nlat, 3);
  } else {
    const char *ks[] = {"p50", "p90", "p99", "p999", "max", "mean"};
    for (int k = 0; k < 6; k++) jb_null(&j, ks[k]);
  }
  jb_int(&j, "samples", (int64_t)e.nlat);
  jb_close(&j);
  jb_num(&j, "warmup", a->warmup);
  jb_int(&j, "produceErrors", e.dr_errors + (e.sent_calls - e.delivered - e.dr_errors));
  jb_int(&j, "duplicates", e.dups);
  jb_fixed(&j, "sendSeconds", span, 6);
  jb_fixed(&j, "maxSendLagMs", (double)e.max_lag_ns / 1e6, 3);
  jb_int(&j, "size", a->size);
  jb_int(&j, "partitions", parts);
  jb_kstr(&j, "partitioning", spread > 0 ? "round-robin" : "librdkafka");
  jb_int(&j, "spread", spread);
  json_config(&j, "config", pshown, a, 1);
  json_config(&j, "consumerConfig", cshown, a, 2);
  jb_kstr(&j, "librdkafka", rd_kafka_version_str());
  jb_close(&j);
  jb_print(&j);

  rd_kafka_conf_destroy(pshown);
  rd_kafka_conf_destroy(cshown);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_assign(e.cons, NULL);
  rd_kafka_destroy_flags(e.cons, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  rd_kafka_destroy(e.prod);
  free(buf);
  free(e.seen);
  free(e.lat);
  return g_fatal || e.cons_fatal ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  rng_seed();
  if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
    jbuf j = {0};
    jb_open(&j, NULL);
    jb_kstr(&j, "librdkafka", rd_kafka_version_str());
    jb_close(&j);
    jb_print(&j);
    return 0;
  }
  if (argc < 2) usage("a subcommand is required");
  args_t a;
  if (strcmp(argv[1], "produce") && strcmp(argv[1], "consume") && strcmp(argv[1], "e2e")) {
    char msg[256];
    snprintf(msg, sizeof msg, "unknown subcommand '%s'", argv[1]);
    usage(msg);
  }
  parse_args(argc, argv, &a);
  g_bootstrap = a.bootstrap;
  if (!strcmp(a.mode, "produce")) return cmd_produce(&a);
  if (!strcmp(a.mode, "consume")) return cmd_consume(&a);
  return cmd_e2e(&a);
}

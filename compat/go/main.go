// Command franz-go-harness drives franz-go (kgo, kadm) for Tributary's compat suite.
//
//	franz-go-harness BOOTSTRAP SCENARIO TOPIC [option=value ...]
//
//	admin    TOPIC  kadm: create TOPIC (3 partitions), list topics, describe it (Metadata) and its
//	                configs (DescribeConfigs), describe the cluster (DescribeCluster), create it
//	                again (TOPIC_ALREADY_EXISTS)
//	create   TOPIC  partitions=N (default 3): create the topic, fail if that fails
//	produce  TOPIC  records from stdin (format below); one line per record, in input order
//	consume  TOPIC  kgo.ConsumePartitions (no group) on every partition from=earliest or
//	                from=ts:MILLIS (kgo.NewOffset().AfterMilli), up to the end offsets listed at
//	                the start (kadm); prints the records sorted by (partition, offset)
//	offsets  TOPIC  ts=MILLIS[,MILLIS...]: kadm ListStartOffsets, ListEndOffsets, and
//	                ListOffsetsAfterMilli per timestamp: one line per timestamp and partition
//
// Options: compression.type=none|gzip|snappy|lz4|zstd, acks=all|1|0, enable.idempotence=false
// (kgo.DisableIdempotentWrite; default: franz-go's default, idempotent), linger.ms=N,
// timeout=SECONDS (whole-run watchdog, default 60).
//
// Input records, one per line, space separated: PARTITION TIMESTAMP KEY VALUE [HNAME:HVALUE ...]
// where PARTITION and TIMESTAMP are numbers or "-" (unset; all records must agree on whether the
// partition is set), KEY, VALUE, HNAME and HVALUE are base64 ("-" is null).
//
// Output: JSON lines on stdout, bytes as base64, null as null; the last line is
// {"done": true|false, ...}. Errors are {"error": NAME, "code": Kafka error code or -1,
// "message": ...}. HARNESS_DEBUG=1 logs the client's requests (API key and version) to stderr.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	out   = bufio.NewWriterSize(os.Stdout, 1<<16)
	outMu sync.Mutex
)

func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	outMu.Lock()
	defer outMu.Unlock()
	out.Write(b)
	out.WriteByte('\n')
}

type obj = map[string]any

func errFields(err error) obj {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return obj{"error": ke.Message, "code": ke.Code, "message": err.Error()}
	}
	return obj{"error": fmt.Sprintf("%T", err), "code": -1, "message": err.Error()}
}

func with(o obj, more obj) obj {
	for k, v := range more {
		o[k] = v
	}
	return o
}

type harness struct {
	bootstrap string
	topic     string
	opts      map[string]string
	ctx       context.Context
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: franz-go-harness BOOTSTRAP admin|produce|consume|offsets TOPIC [option=value ...]")
		os.Exit(2)
	}
	h := &harness{bootstrap: os.Args[1], topic: os.Args[3], opts: map[string]string{}}
	for _, a := range os.Args[4:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			fmt.Fprintln(os.Stderr, "option without '=':", a)
			os.Exit(2)
		}
		h.opts[k] = v
	}
	timeout := 60 * time.Second
	if s, ok := h.opts["timeout"]; ok {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad timeout:", s)
			os.Exit(2)
		}
		timeout = time.Duration(f * float64(time.Second))
	}
	// Hard watchdog: whatever is stuck, the process ends.
	time.AfterFunc(timeout+5*time.Second, func() {
		emit(obj{"done": false, "error": "HarnessTimeout", "code": -1, "message": fmt.Sprintf("no result within %s", timeout)})
		outMu.Lock()
		out.Flush()
		os.Exit(3)
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	h.ctx = ctx

	var err error
	switch os.Args[2] {
	case "admin":
		err = h.admin()
	case "create":
		err = h.create()
	case "produce":
		err = h.produce()
	case "consume":
		err = h.consume()
	case "offsets":
		err = h.offsets()
	default:
		err = fmt.Errorf("unknown scenario %q", os.Args[2])
	}
	rc := 0
	if err != nil {
		emit(with(obj{"done": false}, errFields(err)))
		rc = 1
	}
	outMu.Lock()
	out.Flush()
	os.Exit(rc)
}

func clientVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func (h *harness) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(h.bootstrap),
		kgo.ClientID("compat-franz-go"),
		kgo.DialTimeout(10 * time.Second),
		kgo.RetryTimeout(20 * time.Second),
	}
	if os.Getenv("HARNESS_DEBUG") != "" {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil)))
	}
	return append(opts, extra...)
}

// ------------------------------------------------------------------ admin

func (h *harness) admin() error {
	cl, err := kgo.NewClient(h.clientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := h.ctx

	step := func(name string, fn func() (obj, error)) {
		o, err := fn()
		if o == nil {
			o = obj{}
		}
		o["step"] = name
		if err != nil {
			with(o, errFields(err))
		} else {
			o["error"] = nil
		}
		emit(o)
	}
	create := func() (obj, error) {
		r, err := adm.CreateTopic(ctx, 3, 1, nil, h.topic)
		if err != nil {
			return nil, err
		}
		return obj{"topic": r.Topic, "id": r.ID.String(), "partitions": r.NumPartitions}, r.Err
	}
	step("create", create)
	step("list", func() (obj, error) {
		tds, err := adm.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		return obj{"found": tds.Has(h.topic), "count": len(tds)}, nil
	})
	step("describe", func() (obj, error) {
		tds, err := adm.ListTopics(ctx, h.topic)
		if err != nil {
			return nil, err
		}
		td, ok := tds[h.topic]
		if !ok {
			return nil, fmt.Errorf("topic %s missing from metadata", h.topic)
		}
		if td.Err != nil {
			return nil, td.Err
		}
		var parts []obj
		for _, p := range td.Partitions.Sorted() {
			o := obj{"p": p.Partition, "leader": p.Leader, "epoch": p.LeaderEpoch, "replicas": p.Replicas, "isr": p.ISR}
			if p.Err != nil {
				with(o, errFields(p.Err))
			}
			parts = append(parts, o)
		}
		return obj{"name": td.Topic, "id": td.ID.String(), "internal": td.IsInternal, "partitions": parts}, nil
	})
	step("configs", func() (obj, error) {
		rcs, err := adm.DescribeTopicConfigs(ctx, h.topic)
		if err != nil {
			return nil, err
		}
		rc, err := rcs.On(h.topic, nil)
		if err != nil {
			return nil, err
		}
		if rc.Err != nil {
			return nil, rc.Err
		}
		cfgs := obj{}
		for _, c := range rc.Configs {
			cfgs[c.Key] = obj{"v": c.Value, "src": c.Source.String(), "sensitive": c.Sensitive}
		}
		return obj{"configs": cfgs}, nil
	})
	step("cluster", func() (obj, error) {
		req := kmsg.NewPtrDescribeClusterRequest()
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return nil, err
		}
		var nodes []obj
		for _, b := range resp.Brokers {
			nodes = append(nodes, obj{"id": b.NodeID, "host": b.Host, "port": b.Port, "rack": b.Rack})
		}
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return nil, err
		}
		return obj{"id": resp.ClusterID, "controller": resp.ControllerID, "nodes": nodes,
			"metadata": obj{"id": md.Cluster, "controller": md.Controller, "brokers": len(md.Brokers)}}, nil
	})
	step("create-again", create)
	emit(obj{"done": true, "client": clientVersion()})
	return nil
}

func (h *harness) create() error {
	n := 3
	if s, ok := h.opts["partitions"]; ok {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			return err
		}
	}
	cl, err := kgo.NewClient(h.clientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	r, err := kadm.NewClient(cl).CreateTopic(h.ctx, int32(n), 1, nil, h.topic)
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return err
	}
	emit(obj{"done": true, "topic": h.topic})
	return nil
}

// ------------------------------------------------------------------ produce

type inRec struct {
	p       int32
	hasP    bool
	ts      int64
	hasTs   bool
	key     []byte
	value   []byte
	headers []kgo.RecordHeader
}

func unb64(s string) ([]byte, error) {
	if s == "-" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if b == nil {
		b = []byte{}
	}
	return b, err
}

func readRecords() ([]inRec, error) {
	var recs []inRec
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) < 4 {
			return nil, fmt.Errorf("bad record line %q", line)
		}
		var r inRec
		var err error
		if f[0] != "-" {
			p, err := strconv.ParseInt(f[0], 10, 32)
			if err != nil {
				return nil, err
			}
			r.p, r.hasP = int32(p), true
		}
		if f[1] != "-" {
			if r.ts, err = strconv.ParseInt(f[1], 10, 64); err != nil {
				return nil, err
			}
			r.hasTs = true
		}
		if r.key, err = unb64(f[2]); err != nil {
			return nil, err
		}
		if r.value, err = unb64(f[3]); err != nil {
			return nil, err
		}
		for _, hv := range f[4:] {
			n, v, _ := strings.Cut(hv, ":")
			name, err := unb64(n)
			if err != nil {
				return nil, err
			}
			val, err := unb64(v)
			if err != nil {
				return nil, err
			}
			r.headers = append(r.headers, kgo.RecordHeader{Key: string(name), Value: val})
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

func codec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("unknown compression.type %q", name)
}

func (h *harness) produce() error {
	recs, err := readRecords()
	if err != nil {
		return err
	}
	c, err := codec(h.opts["compression.type"])
	if err != nil {
		return err
	}
	opts := []kgo.Opt{
		kgo.DefaultProduceTopic(h.topic),
		kgo.ProducerBatchCompression(c),
		// no RecordDeliveryTimeout: franz-go measures it from the record's timestamp, so records
		// with explicit past timestamps would time out at once; the run's context bounds delivery
		kgo.ProduceRequestTimeout(15 * time.Second),
		kgo.ProducerLinger(5 * time.Millisecond),
	}
	switch h.opts["acks"] {
	case "", "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		return fmt.Errorf("bad acks %q", h.opts["acks"])
	}
	switch h.opts["enable.idempotence"] {
	case "":
	case "false":
		opts = append(opts, kgo.DisableIdempotentWrite())
	case "true":
	default:
		return fmt.Errorf("bad enable.idempotence %q", h.opts["enable.idempotence"])
	}
	if s, ok := h.opts["linger.ms"]; ok {
		ms, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		opts = append(opts, kgo.ProducerLinger(time.Duration(ms)*time.Millisecond))
	}
	if len(recs) > 0 && recs[0].hasP {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	} else {
		// keyed records: murmur2 like the Java client; franz-go's default, spelled out
		opts = append(opts, kgo.RecordPartitioner(kgo.UniformBytesPartitioner(64<<10, true, true, nil)))
	}
	cl, err := kgo.NewClient(h.clientOpts(opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()

	results := make([]obj, len(recs))
	var mu sync.Mutex
	failed := 0
	started := time.Now()
	for i, r := range recs {
		if r.hasP != recs[0].hasP {
			return fmt.Errorf("record %d: all records must agree on whether the partition is set", i)
		}
		rec := &kgo.Record{Key: r.key, Value: r.value, Headers: r.headers, Partition: r.p}
		if r.hasTs {
			rec.Timestamp = time.UnixMilli(r.ts)
		}
		cl.Produce(h.ctx, rec, func(rec *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[i] = with(obj{"i": i}, errFields(err))
				failed++
				return
			}
			results[i] = obj{"i": i, "p": rec.Partition, "o": rec.Offset, "ts": rec.Timestamp.UnixMilli()}
		})
	}
	flushErr := cl.Flush(h.ctx)
	ms := time.Since(started).Milliseconds()
	mu.Lock()
	defer mu.Unlock()
	missing := 0
	for _, r := range results {
		if r == nil {
			missing++
		} else {
			emit(r)
		}
	}
	done := obj{"done": true, "ok": len(recs) - failed - missing, "failed": failed, "undelivered": missing,
		"ms": ms, "client": clientVersion()}
	if flushErr != nil {
		with(done, obj{"flush_error": flushErr.Error()})
	}
	emit(done)
	return nil
}

// ------------------------------------------------------------------ consume

type outRec struct {
	P  int32    `json:"p"`
	O  int64    `json:"o"`
	Ts int64    `json:"ts"`
	T  string   `json:"tst"`
	K  []byte   `json:"k"`
	V  []byte   `json:"v"`
	H  [][2]any `json:"h"`
	r  *kgo.Record
}

func (h *harness) consume() error {
	from := h.opts["from"]
	if from == "" {
		from = "earliest"
	}
	adm, err := kgo.NewClient(h.clientOpts()...)
	if err != nil {
		return err
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	ends, err := ka.ListEndOffsets(h.ctx, h.topic)
	if err != nil {
		return err
	}
	if err := ends.Error(); err != nil {
		return err
	}
	var starts kadm.ListedOffsets
	var offset kgo.Offset
	switch {
	case from == "earliest":
		offset = kgo.NewOffset().AtStart()
		starts, err = ka.ListStartOffsets(h.ctx, h.topic)
	case strings.HasPrefix(from, "ts:"):
		ts, perr := strconv.ParseInt(from[3:], 10, 64)
		if perr != nil {
			return perr
		}
		offset = kgo.NewOffset().AfterMilli(ts)
		// where consumption should begin (the end offset when no record is at or after ts)
		starts, err = ka.ListOffsetsAfterMilli(h.ctx, ts, h.topic)
	default:
		return fmt.Errorf("from must be earliest or ts:MILLIS")
	}
	if err != nil {
		return err
	}
	if err := starts.Error(); err != nil {
		return err
	}
	partitions := map[int32]kgo.Offset{}
	next := map[int32]int64{}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		partitions[o.Partition] = offset
		end[o.Partition] = o.Offset
	})
	startsOut := obj{}
	starts.Each(func(o kadm.ListedOffset) {
		next[o.Partition] = o.Offset
		startsOut[strconv.Itoa(int(o.Partition))] = o.Offset
	})
	emit(obj{"start_offsets": startsOut})

	cl, err := kgo.NewClient(h.clientOpts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{h.topic: partitions}),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	started := time.Now()
	var got []outRec
	pending := func() int {
		n := 0
		for p, e := range end {
			if next[p] < e {
				n++
			}
		}
		return n
	}
	for pending() > 0 {
		fs := cl.PollFetches(h.ctx)
		if h.ctx.Err() != nil {
			return fmt.Errorf("consume: %d partitions not read to their end offsets in time (%v)", pending(), h.ctx.Err())
		}
		for _, fe := range fs.Errors() {
			emit(with(obj{"p": fe.Partition}, errFields(fe.Err)))
		}
		fs.EachRecord(func(r *kgo.Record) {
			hs := make([][2]any, 0, len(r.Headers))
			for _, hd := range r.Headers {
				var v any
				if hd.Value != nil {
					v = hd.Value
				}
				hs = append(hs, [2]any{hd.Key, v})
			}
			tst := "create"
			if r.Attrs.TimestampType() == 1 {
				tst = "logappend"
			}
			got = append(got, outRec{P: r.Partition, O: r.Offset, Ts: r.Timestamp.UnixMilli(), T: tst, K: r.Key, V: r.Value, H: hs, r: r})
			if r.Offset+1 > next[r.Partition] {
				next[r.Partition] = r.Offset + 1
			}
		})
	}
	ms := time.Since(started).Milliseconds()
	sort.Slice(got, func(i, j int) bool {
		if got[i].P != got[j].P {
			return got[i].P < got[j].P
		}
		return got[i].O < got[j].O
	})
	sha := sha256.New()
	var n [4]byte
	for _, r := range got {
		emit(r)
		// same digest as compat/harness.ts digest(recs, true)
		binary.BigEndian.PutUint32(n[:], uint32(r.P))
		sha.Write(n[:])
		for _, b := range [][]byte{r.r.Key, r.r.Value} {
			if b == nil {
				binary.BigEndian.PutUint32(n[:], 0xffffffff)
				sha.Write(n[:])
				continue
			}
			binary.BigEndian.PutUint32(n[:], uint32(len(b)))
			sha.Write(n[:])
			sha.Write(b)
		}
	}
	positions := obj{}
	for p, o := range next {
		positions[strconv.Itoa(int(p))] = o
	}
	emit(obj{"done": true, "count": len(got), "sha256": hex.EncodeToString(sha.Sum(nil)), "positions": positions,
		"ms": ms, "client": clientVersion()})
	return nil
}

// ------------------------------------------------------------------ offsets

func (h *harness) offsets() error {
	var stamps []int64
	for _, s := range strings.Split(h.opts["ts"], ",") {
		ts, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("ts=MILLIS[,MILLIS...] required: %w", err)
		}
		stamps = append(stamps, ts)
	}
	cl, err := kgo.NewClient(h.clientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(h.ctx, h.topic)
	if err != nil {
		return err
	}
	ends, err := adm.ListEndOffsets(h.ctx, h.topic)
	if err != nil {
		return err
	}
	for _, l := range []kadm.ListedOffsets{starts, ends} {
		if err := l.Error(); err != nil {
			return err
		}
	}
	for _, ts := range stamps {
		after, err := adm.ListOffsetsAfterMilli(h.ctx, ts, h.topic)
		if err != nil {
			return err
		}
		if err := after.Error(); err != nil {
			return err
		}
		var lines []obj
		after.Each(func(o kadm.ListedOffset) {
			s, _ := starts.Lookup(h.topic, o.Partition)
			e, _ := ends.Lookup(h.topic, o.Partition)
			lines = append(lines, obj{"ts": ts, "p": o.Partition, "start": s.Offset, "end": e.Offset, "o": o.Offset, "ots": o.Timestamp})
		})
		sort.Slice(lines, func(i, j int) bool { return lines[i]["p"].(int32) < lines[j]["p"].(int32) })
		for _, l := range lines {
			emit(l)
		}
	}
	emit(obj{"done": true, "client": clientVersion()})
	return nil
}

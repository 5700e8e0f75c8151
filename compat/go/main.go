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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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

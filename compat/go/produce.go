// Scenario produce: records from stdin through a kgo producer.
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

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

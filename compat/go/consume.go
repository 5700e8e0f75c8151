// Scenarios consume (kgo.ConsumePartitions, no group) and offsets (kadm ListOffsets).
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

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

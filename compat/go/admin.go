// Scenarios admin and create (kadm, kmsg).
package main

import (
	"fmt"

	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

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

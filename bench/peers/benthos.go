//go:build benthos

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	// The pure components supply the "none" metrics exporter and tracer
	// the stream builder defaults to; nothing else of them is used.
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/weir-etl/weir/bench"
)

// benthosRun is the benthos engine: linked only into binaries built with
// the benthos tag.
var benthosRun runFunc = runBenthos

// The plugins the benthos stream is built from. They are registered once
// per process on a private environment, as a Benthos user registers plugins
// at start-up; each run finds its source and sink through the "run" field.
const (
	benthosInput     = "weir_slim_users"
	benthosProcessor = "weir_transform_slim"
	benthosOutput    = "weir_sum"
)

var (
	benthosEnvOnce sync.Once
	benthosEnv     *service.Environment
	benthosEnvErr  error

	benthosRunsMu sync.Mutex
	benthosRuns   = map[string]*benthosJob{}
	benthosRunSeq atomic.Int64
)

// benthosJob is the state of one benthos run that its plugins share.
type benthosJob struct {
	records int
	sink    *sumSink
	nacked  atomic.Pointer[error] // the first nack the input saw
}

// runBenthos builds and runs one Benthos stream: a batch input plugin
// generating the slim users (tuning.inputBatch records per ReadBatch, each
// record one message holding a bench.SlimUser as its structured value), a
// batch processor applying bench.TransformSlim on tuning.threads pipeline
// threads, and a batch output plugin summing keys with tuning.maxInFlight
// writes in flight. Building the stream is part of the run, as it is part
// of a job.
func runBenthos(ctx context.Context, records int, sink *sumSink) error {
	env, err := benthosEnvironment()
	if err != nil {
		return err
	}
	id := "r" + strconv.FormatInt(benthosRunSeq.Add(1), 10)
	job := &benthosJob{records: records, sink: sink}
	benthosRunsMu.Lock()
	benthosRuns[id] = job
	benthosRunsMu.Unlock()
	defer func() {
		benthosRunsMu.Lock()
		delete(benthosRuns, id)
		benthosRunsMu.Unlock()
	}()

	b := env.NewStreamBuilder()
	b.DisableLinting()
	if err := b.SetYAML(benthosYAML(id, tuning)); err != nil {
		return fmt.Errorf("benthos: config: %w", err)
	}
	strm, err := b.Build()
	if err != nil {
		return fmt.Errorf("benthos: build: %w", err)
	}
	if err := strm.Run(ctx); err != nil {
		// Run returns on cancellation without stopping the stream: stop it,
		// so no goroutine of this run outlives it.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return errors.Join(fmt.Errorf("benthos: run: %w", err), strm.Stop(stopCtx))
	}
	if p := job.nacked.Load(); p != nil {
		return fmt.Errorf("benthos: a batch was rejected: %w", *p)
	}
	return nil
}

// benthosYAML is the stream's configuration.
func benthosYAML(id string, t benthosTuning) string {
	batching := ""
	if t.outCount > 0 {
		batching = fmt.Sprintf("\n    batching:\n      count: %d", t.outCount)
		if t.outPeriod != "" {
			batching += "\n      period: " + t.outPeriod
		}
	}
	return fmt.Sprintf(`input:
  %s:
    run: %s
    batch_size: %d
pipeline:
  threads: %d
  processors:
    - %s: {}
output:
  %s:
    run: %s
    max_in_flight: %d%s
logger:
  level: NONE
metrics:
  none: {}
`, benthosInput, id, t.inputBatch, t.threads, benthosProcessor, benthosOutput, id, t.maxInFlight, batching)
}

func lookupJob(conf *service.ParsedConfig) (*benthosJob, error) {
	id, err := conf.FieldString("run")
	if err != nil {
		return nil, err
	}
	benthosRunsMu.Lock()
	defer benthosRunsMu.Unlock()
	job, ok := benthosRuns[id]
	if !ok {
		return nil, fmt.Errorf("no benthos run %q", id)
	}
	return job, nil
}

// benthosEnvironment registers the three plugins once per process.
func benthosEnvironment() (*service.Environment, error) {
	benthosEnvOnce.Do(func() {
		env := service.NewEnvironment()
		benthosEnvErr = errors.Join(
			env.RegisterBatchInput(benthosInput,
				service.NewConfigSpec().Fields(service.NewStringField("run"), service.NewIntField("batch_size")),
				func(conf *service.ParsedConfig, _ *service.Resources) (service.BatchInput, error) {
					job, err := lookupJob(conf)
					if err != nil {
						return nil, err
					}
					n, err := conf.FieldInt("batch_size")
					if err != nil {
						return nil, err
					}
					return &slimInput{job: job, src: bench.NewSlimSource(job.records, seed), buf: make([]bench.SlimUser, n)}, nil
				}),
			env.RegisterBatchProcessor(benthosProcessor, service.NewConfigSpec(),
				func(*service.ParsedConfig, *service.Resources) (service.BatchProcessor, error) {
					return transformProcessor{}, nil
				}),
			env.RegisterBatchOutput(benthosOutput,
				service.NewConfigSpec().Fields(service.NewStringField("run"),
					service.NewOutputMaxInFlightField(), service.NewBatchPolicyField("batching")),
				func(conf *service.ParsedConfig, _ *service.Resources) (service.BatchOutput, service.BatchPolicy, int, error) {
					job, err := lookupJob(conf)
					if err != nil {
						return nil, service.BatchPolicy{}, 0, err
					}
					maxInFlight, err := conf.FieldMaxInFlight()
					if err != nil {
						return nil, service.BatchPolicy{}, 0, err
					}
					policy, err := conf.FieldBatchPolicy("batching")
					if err != nil {
						return nil, service.BatchPolicy{}, 0, err
					}
					return &sumOutput{sink: job.sink}, policy, maxInFlight, nil
				}),
		)
		benthosEnv = env
	})
	return benthosEnv, benthosEnvErr
}

// slimInput generates the slim users: each ReadBatch reads len(buf) records
// from the source and wraps each in a message. Benthos calls ReadBatch from
// one goroutine, so buf is reused.
type slimInput struct {
	job *benthosJob
	src interface {
		Read(ctx context.Context, buf []bench.SlimUser) (int, error)
	}
	buf  []bench.SlimUser
	done bool
}

func (in *slimInput) Connect(context.Context) error { return nil }

func (in *slimInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	if in.done {
		return nil, nil, service.ErrEndOfInput
	}
	n, err := in.src.Read(ctx, in.buf)
	if err != nil {
		if !isEOF(err) {
			return nil, nil, fmt.Errorf("read: %w", err)
		}
		in.done = true
		if n == 0 {
			return nil, nil, service.ErrEndOfInput
		}
	}
	batch := make(service.MessageBatch, n)
	for i := range batch {
		m := service.NewMessage(nil)
		m.SetStructured(in.buf[i])
		batch[i] = m
	}
	return batch, in.ack, nil
}

// ack records the first rejected batch so the run can fail; there is
// nothing to redeliver from.
func (in *slimInput) ack(_ context.Context, err error) error {
	if err != nil {
		in.job.nacked.CompareAndSwap(nil, &err)
	}
	return nil
}

func (in *slimInput) Close(context.Context) error { return nil }

// transformProcessor applies bench.TransformSlim to every message of a
// batch, replacing its structured value, and passes the batch on.
type transformProcessor struct{}

func (transformProcessor) ProcessBatch(ctx context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	for _, m := range batch {
		v, err := m.AsStructured()
		if err != nil {
			return nil, err
		}
		u, ok := v.(bench.SlimUser)
		if !ok {
			return nil, fmt.Errorf("transform: message holds %T, want bench.SlimUser", v)
		}
		out, err := bench.TransformSlim(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("transform: %w", err)
		}
		m.SetStructured(out)
	}
	return []service.MessageBatch{batch}, nil
}

func (transformProcessor) Close(context.Context) error { return nil }

// sumOutput hands each batch's transformed records to the shared sum sink,
// in chunks of up to 128 copied into a stack buffer.
type sumOutput struct{ sink *sumSink }

func (o *sumOutput) Connect(context.Context) error { return nil }

func (o *sumOutput) WriteBatch(ctx context.Context, batch service.MessageBatch) error {
	var buf [batchSize]bench.SlimTransformed
	for len(batch) > 0 {
		n := min(len(batch), len(buf))
		for i, m := range batch[:n] {
			v, err := m.AsStructured()
			if err != nil {
				return err
			}
			t, ok := v.(bench.SlimTransformed)
			if !ok {
				return fmt.Errorf("sink: message holds %T, want bench.SlimTransformed", v)
			}
			buf[i] = t
		}
		if err := o.sink.Write(ctx, buf[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

func (o *sumOutput) Close(context.Context) error { return nil }

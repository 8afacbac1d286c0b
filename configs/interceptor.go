package configs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Interceptor types Perimeter implements.
const (
	TypePrinter       = "printer"
	TypeMessageLogger = "message_logger"
	TypeEventRecorder = "event_recorder"
	TypeHTTPRecorder  = "http_recorder"
	TypeLiveTrace     = "live_trace"
)

// KnownInterceptorTypes lists the interceptor types Perimeter implements.
func KnownInterceptorTypes() []string {
	return []string{TypePrinter, TypeMessageLogger, TypeEventRecorder, TypeHTTPRecorder, TypeLiveTrace}
}

// InterceptorConfig is one entry of the interceptors list. Config is kept
// raw, as written (after ${VAR} substitution): /config echoes it (redacted)
// and types Perimeter does not know still load. The typed views (Printer,
// LiveTrace, ...) apply the original's defaults.
type InterceptorConfig struct {
	Type string `yaml:"type"`
	// Enabled defaults to true when absent.
	Enabled bool           `yaml:"enabled"`
	Config  map[string]any `yaml:"config"`
}

// UnmarshalYAML defaults Enabled to true.
func (ic *InterceptorConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain InterceptorConfig // no methods: no recursion
	p := plain{Enabled: true}
	if err := n.Decode(&p); err != nil {
		return err
	}
	*ic = InterceptorConfig(p)
	return nil
}

// Interceptor returns the first enabled interceptor of type typ
// (case-insensitive).
func (c *Config) Interceptor(typ string) (InterceptorConfig, bool) {
	for _, ic := range c.Interceptors {
		if ic.Enabled && strings.EqualFold(strings.TrimSpace(ic.Type), typ) {
			return ic, true
		}
	}
	return InterceptorConfig{}, false
}

// Printer returns the printer options with the original's defaults.
func (ic InterceptorConfig) Printer() (PrinterConfig, error) {
	return typedView(ic, TypePrinter, defaultPrinter())
}

// MessageLogger returns the message_logger options with the original's defaults.
func (ic InterceptorConfig) MessageLogger() (MessageLoggerConfig, error) {
	return typedView(ic, TypeMessageLogger, defaultMessageLogger())
}

// EventRecorder returns the event_recorder options with the original's defaults.
func (ic InterceptorConfig) EventRecorder() (EventRecorderConfig, error) {
	return typedView(ic, TypeEventRecorder, defaultEventRecorder())
}

// HTTPRecorder returns the http_recorder options with the original's defaults.
func (ic InterceptorConfig) HTTPRecorder() (HTTPRecorderConfig, error) {
	return typedView(ic, TypeHTTPRecorder, defaultHTTPRecorder())
}

// LiveTrace returns the live_trace options with the original's defaults.
// It does not see the top-level live_trace section; Config.LiveTraceSettings
// does.
func (ic InterceptorConfig) LiveTrace() (LiveTraceConfig, error) {
	return typedView(ic, TypeLiveTrace, defaultLiveTrace())
}

// LiveTraceSettings returns the first enabled live_trace interceptor's
// options, with the top-level live_trace section filling in the keys its
// config lacks (as the original's interceptor manager did). ok is false
// when no live_trace interceptor is enabled.
func (c *Config) LiveTraceSettings() (lt LiveTraceConfig, ok bool, err error) {
	ic, ok := c.Interceptor(TypeLiveTrace)
	if !ok {
		return LiveTraceConfig{}, false, nil
	}
	lt, err = ic.LiveTrace()
	if _, set := ic.Config["session_completion_timeout"]; !set {
		lt.SessionCompletionTimeout = c.LiveTrace.SessionCompletionTimeout
	}
	if _, set := ic.Config["completion_check_interval"]; !set {
		lt.CompletionCheckInterval = c.LiveTrace.CompletionCheckInterval
	}
	return lt, true, err
}

// typedConfig is one interceptor's typed options. checked returns the
// options normalised (case, spelling) and adds value problems under path.
type typedConfig[T any] interface {
	checked(ps *problems, path string) T
}

// typedView decodes ic.Config onto def; its error lists every error-level
// problem (warnings such as unknown keys are left to Validate).
func typedView[T typedConfig[T]](ic InterceptorConfig, typ string, def T) (T, error) {
	if !strings.EqualFold(strings.TrimSpace(ic.Type), typ) {
		return def, fmt.Errorf("interceptor type is %q, not %q", ic.Type, typ)
	}
	ps := &problems{}
	out := decodeTyped(ic.Config, def, "config", ps, nil)
	if HasErrors(ps.list) {
		msgs := make([]string, 0, len(ps.list))
		for _, p := range Errors(ps.list) {
			msgs = append(msgs, p.String())
		}
		return out, errors.New(typ + " interceptor: " + strings.Join(msgs, "; "))
	}
	return out, nil
}

// decodeTyped decodes raw onto def, adding shape, type and value problems
// under path (lines are looked up in lines, keyed by full path).
func decodeTyped[T typedConfig[T]](raw map[string]any, def T, path string, ps *problems, lines map[string]int) T {
	out := def
	if len(raw) > 0 {
		var n yaml.Node
		if err := encodeNode(&n, raw); err != nil {
			ps.errorf(path, "%v", err)
			return def
		}
		before := len(ps.list)
		ck := newChecker(ps, map[string]int{}, nil)
		ck.tolerated = injectedKeys
		ck.walk(&n, reflect.TypeFor[T](), path)
		for i := before; i < len(ps.list); i++ {
			ps.list[i].Line = lineFor(lines, ps.list[i].Path)
		}
		if HasErrors(ps.list[before:]) {
			return def
		}
		if err := decodeNode(&n, &out); err != nil {
			ps.errorf(path, "%v", err)
			return def
		}
	}
	return out.checked(ps, path)
}

// injectedKeys are set by the original's interceptor manager itself;
// finding them in a config is not a mistake.
var injectedKeys = map[string]bool{"enabled": true, "provider_name": true}

func encodeNode(n *yaml.Node, v any) (err error) {
	defer recoverInto(&err)
	return n.Encode(v)
}

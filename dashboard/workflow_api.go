package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/cylestio/perimeter/dashboard/workflow"
	"github.com/cylestio/perimeter/sink"
)

// The security workflow (package dashboard/workflow) over HTTP. Every
// route parses its request into the arguments of one operation (a wfOp,
// built by the op* functions of workflow_ops.go) and the MCP tools build
// the same operations from their arguments, so REST and MCP share one
// implementation per operation. Reads and writes take a turn on the pages'
// lane. Reads answer the usual empty state when the store is down; writes
// answer 503 then, since nothing was changed.

// wfOp is one workflow operation.
type wfOp func(ctx context.Context, svc *workflow.Service, q *querier) (any, error)

// workflowAPI holds the workflow service, created on first use over the
// dashboard's store (when the store can hold the workflow's tables).
type workflowAPI struct {
	s      *Server
	once   sync.Once
	svc    *workflow.Service
	trigMu sync.Mutex // one dynamic analysis at a time
}

func newWorkflowAPI(s *Server) *workflowAPI { return &workflowAPI{s: s} }

func (w *workflowAPI) service() *workflow.Service {
	w.once.Do(func() {
		if st, ok := w.s.opts.Store.(workflow.Store); ok {
			w.svc = workflow.New(st, workflow.Options{SessionTimeout: w.s.opts.SessionTimeout,
				DashboardURL: w.s.URL(), Now: w.s.opts.Now})
		}
	})
	return w.svc
}

// run runs op on the pages' lane. A store that is down (or absent) is
// errUnavailable, wrapped around the store's own error when there is one.
func (w *workflowAPI) run(ctx context.Context, op wfOp) (any, sink.Status, error) {
	release, err := w.s.pages.acquire(ctx)
	if err != nil {
		return nil, sink.Status{}, err
	}
	defer release()
	ctx = queryContext(ctx)
	st := w.s.status()
	q := w.s.querier(ctx, st)
	svc := w.service()
	if svc == nil || q.store == nil {
		return nil, st, errUnavailable
	}
	v, err := op(ctx, svc, q)
	if err != nil && !errors.Is(err, errUnavailable) && w.storeDown(err) {
		err = fmt.Errorf("%w: %w", errUnavailable, err)
	}
	if errors.Is(err, errUnavailable) || !st.Available {
		st = w.s.status()
		if errors.Is(err, errUnavailable) && st.Available {
			st.Available, st.Reason, st.Fix = false, unavailableReason(err), "wait a moment: the store is restarting; the proxy is unaffected"
		}
	}
	return v, st, err
}

// storeDown reports whether err is the store being unreachable (rather
// than a statement it refused).
func (w *workflowAPI) storeDown(err error) bool {
	if errors.Is(err, sink.ErrUnavailable) {
		return true
	}
	var se *workflow.StoreError
	return errors.As(err, &se) && w.s.opts.Store != nil && !w.s.opts.Store.Status().Available
}

// wfAnswer is a workflow answer in the original's shape with the
// dashboard's envelope (storage, last_updated) added to it.
type wfAnswer struct {
	v any
	Envelope
}

// MarshalJSON writes v's members followed by the envelope's.
func (a *wfAnswer) MarshalJSON() ([]byte, error) {
	env, err := json.Marshal(a.Envelope)
	if err != nil {
		return nil, err
	}
	if a.v == nil {
		return env, nil
	}
	b, err := json.Marshal(a.v)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("workflow answer %T is not a JSON object", a.v)
	}
	if len(b) == 2 {
		return env, nil
	}
	out := make([]byte, 0, len(b)+len(env))
	out = append(out, b[:len(b)-1]...)
	out = append(out, ',')
	return append(out, env[1:]...), nil
}

func (w *workflowAPI) answer(v any, st sink.Status) *wfAnswer {
	return &wfAnswer{v: v, Envelope: Envelope{Storage: st, LastUpdated: Time(w.s.opts.Now())}}
}

// route registers one workflow endpoint. parse reads the request into an
// operation; empty is a read's answer while the store is down (nil: the
// envelope alone). Methods other than GET change state.
func (w *workflowAPI) route(mux *http.ServeMux, pattern string, empty func(r *http.Request) any, parse func(r *http.Request, p params) (wfOp, error)) {
	write := !strings.HasPrefix(pattern, "GET ")
	mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		p := params{q: r.URL.Query(), now: w.s.opts.Now(), id: r.PathValue("id")}
		op, err := parse(r, p)
		if err != nil {
			w.writeErr(rw, sink.Status{}, err, write)
			return
		}
		v, st, err := w.run(r.Context(), op)
		if err == nil {
			w.writeValue(rw, r, v, st)
			return
		}
		if errors.Is(err, errUnavailable) && !write {
			var e any
			if empty != nil {
				e = empty(r)
			}
			writeJSON(rw, http.StatusOK, w.answer(e, st))
			return
		}
		w.writeErr(rw, st, err, write)
	})
}

// writeValue writes an answer; an HTML page (the printable report) is
// written as it is.
func (w *workflowAPI) writeValue(rw http.ResponseWriter, r *http.Request, v any, st sink.Status) {
	if page, ok := v.(htmlPage); ok {
		h := rw.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		// The page is ours and static: no scripts, nothing from elsewhere.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
		rw.WriteHeader(http.StatusOK)
		_, _ = rw.Write(page)
		return
	}
	writeJSON(rw, http.StatusOK, w.answer(v, st))
}

// writeErr maps an error to its status: unknown ids 404, bad arguments
// 400 (naming the parameter and the valid values), a step the
// recommendation's status does not allow 409, a store that did not answer
// 503.
func (w *workflowAPI) writeErr(rw http.ResponseWriter, st sink.Status, err error, write bool) {
	var (
		nf *workflow.NotFoundError
		bp *workflow.BadParamError
		te *workflow.TransitionError
		se *workflow.StoreError
		ae *apiError
	)
	switch {
	case errors.As(err, &nf):
		writeJSON(rw, http.StatusNotFound, map[string]any{"error": nf.Error(), "kind": nf.Kind, "id": nf.ID})
	case errors.As(err, &bp):
		body := map[string]any{"error": bp.Error(), "param": bp.Param}
		if len(bp.Valid) > 0 {
			body["valid"] = bp.Valid
		}
		if len(bp.Missing) > 0 {
			body["required"] = bp.Missing
		}
		writeJSON(rw, http.StatusBadRequest, body)
	case errors.As(err, &te):
		writeJSON(rw, http.StatusConflict, map[string]any{"error": te.Error(), "recommendation_id": te.ID,
			"action": te.Action, "status": te.From, "allowed": te.Allowed})
	case errors.Is(err, errUnavailable):
		setRetryAfter(rw, probeEvery)
		msg := "the analytics store is unavailable"
		if write {
			msg += ", so nothing was changed"
		}
		if st.Reason != "" {
			msg += ": " + st.Reason
		}
		writeJSON(rw, http.StatusServiceUnavailable, map[string]any{"error": msg, "fix": st.Fix, "storage": st})
	case errors.As(err, &se):
		setRetryAfter(rw, probeEvery)
		writeJSON(rw, http.StatusServiceUnavailable, map[string]any{"error": se.Error(), "storage": st})
	case errors.As(err, &ae):
		ae.write(rw)
	default:
		w.s.log.Warn().Err(err).Msg("workflow request failed")
		writeJSON(rw, http.StatusInternalServerError, map[string]any{"error": err.Error(), "storage": st})
	}
}

// maxBody bounds a workflow request's JSON body.
const maxBody = 1 << 20

// decodeBody reads a JSON object into v; an empty body leaves v as it is.
// A body that says it is something other than JSON is refused, so that a
// form another site's page posts (a "simple" request, sent without a
// preflight) never reaches a handler that changes state.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &apiError{status: http.StatusUnsupportedMediaType, param: "body",
				msg: "body: send JSON (Content-Type: application/json), not " + strconv.Quote(ct)}
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return badParam("body", "read: %v", err)
	}
	if len(body) > maxBody {
		return &apiError{status: http.StatusRequestEntityTooLarge, param: "body", msg: "body: larger than 1 MiB"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badParam("body", "want a JSON object with the documented fields: %v", err)
	}
	return nil
}

// boolParam reads true/false (1/0, yes/no).
func (p params) boolParam(name string, def bool) (bool, error) {
	raw := strings.ToLower(strings.TrimSpace(p.q.Get(name)))
	switch raw {
	case "":
		return def, nil
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, &workflow.BadParamError{Param: name, Value: raw, Valid: []string{"true", "false"}}
}

// workflowSessions is the SQL condition on session_id keeping the sessions
// of an agent workflow (unassignedWorkflow: of none), read from the
// workflow id the edge writes on calls made through /agent-workflow/{id}/.
func (q *querier) workflowSessions(wf string) (string, []any) {
	sub := "SELECT session_id FROM " + q.src + " PREWHERE name IN " + workflow.WorkflowEvents + " WHERE "
	if wf == unassignedWorkflow {
		return "session_id " + q.schema.In(true) + " (" + sub + workflow.WorkflowExpr + " != '')", nil
	}
	return "session_id " + q.schema.In(false) + " (" + sub + workflow.WorkflowExpr + " = ?)", []any{wf}
}

// unassignedWorkflow is the agent_workflow_id value of traffic sent
// without a workflow route, as the original spells it.
const unassignedWorkflow = "unassigned"

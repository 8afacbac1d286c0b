package workflow

import (
	"context"
	"strings"
	"time"
)

// AgentUpdate is update_agent_info's arguments; at least one of the
// pointers must be set. A set, empty string clears the field.
type AgentUpdate struct {
	AgentID     string
	DisplayName *string
	Description *string
	WorkflowID  *string
}

// AgentInfoUpdated is update_agent_info's answer.
type AgentInfoUpdated struct {
	Agent   *AgentInfo `json:"agent"`
	Message string     `json:"message"`
}

// UpdateAgentInfo sets an agent's display name, description or workflow.
func (s *Service) UpdateAgentInfo(ctx context.Context, u AgentUpdate) (*AgentInfoUpdated, error) {
	if err := required("agent_id", u.AgentID); err != nil {
		return nil, err
	}
	if u.DisplayName == nil && u.Description == nil && u.WorkflowID == nil {
		return nil, &BadParamError{Param: "display_name", Msg: "give at least one of display_name, description, agent_workflow_id"}
	}
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	infos, err := s.agentInfos(ctx, []string{u.AgentID})
	if err != nil {
		return nil, err
	}
	a := infos[u.AgentID]
	if a == nil {
		a = &AgentInfo{AgentID: u.AgentID}
	}
	var changed []string
	if u.DisplayName != nil {
		a.DisplayName, changed = opt(strings.TrimSpace(*u.DisplayName)), append(changed, "display_name")
	}
	if u.Description != nil {
		a.Description, changed = opt(strings.TrimSpace(*u.Description)), append(changed, "description")
	}
	if u.WorkflowID != nil {
		a.AgentWorkflowID, changed = opt(strings.TrimSpace(*u.WorkflowID)), append(changed, "agent_workflow_id")
	}
	a.updatedUS = s.nowUS()
	if err := s.insert(ctx, agentsT, "agent info of "+u.AgentID, a.row()); err != nil {
		return nil, err
	}
	return &AgentInfoUpdated{Agent: a, Message: "Updated " + strings.Join(changed, ", ") + " of agent " + u.AgentID}, nil
}

// AgentInfos returns what is known about the given agents (all when ids
// is empty), by id.
func (s *Service) AgentInfos(ctx context.Context, ids []string) (map[string]*AgentInfo, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	return s.agentInfos(ctx, ids)
}

func (s *Service) agentInfos(ctx context.Context, ids []string) (map[string]*AgentInfo, error) {
	where, args := "", []any(nil)
	if len(ids) > 0 {
		where, args = "agent_id IN ?", []any{ids}
	}
	rows, err := s.selectRows(ctx, agentsT, "agent info", where, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*AgentInfo, len(rows))
	for _, r := range rows {
		a := scanAgent(r)
		out[a.AgentID] = a
	}
	return out, nil
}

// Heartbeat is ide_heartbeat's arguments.
type Heartbeat struct {
	WorkflowID    string // required
	IDEType       string
	WorkspacePath string
	Model         string
	Host          string
	User          string
}

// IDEStatus is GET /api/ide/status and get_ide_connection_status.
type IDEStatus struct {
	AgentWorkflowID  string   `json:"agent_workflow_id"`
	HasActivity      bool     `json:"has_activity"`
	LastSeen         *string  `json:"last_seen"`
	LastSeenRelative *string  `json:"last_seen_relative"`
	IDE              *IDEInfo `json:"ide"`
	Message          string   `json:"message,omitempty"`
}

// IDEHeartbeat records that an IDE assistant works on a workflow; fields
// left empty keep their last value.
func (s *Service) IDEHeartbeat(ctx context.Context, h Heartbeat) (*IDEStatus, error) {
	return update(ctx, s, "agent_workflow_id", h.WorkflowID, s.ide, func(r *ideRow) (*IDEStatus, error) {
		if r == nil {
			r = &ideRow{workflow: h.WorkflowID}
		}
		for _, f := range []struct {
			dst **string
			v   string
		}{{&r.IDEType, h.IDEType}, {&r.WorkspacePath, h.WorkspacePath}, {&r.Model, h.Model}, {&r.Host, h.Host}, {&r.User, h.User}} {
			if v := strings.TrimSpace(f.v); v != "" {
				*f.dst = &v
			}
		}
		r.seenUS = s.nowUS()
		if err := s.insert(ctx, ideT, "IDE activity of "+h.WorkflowID, r.row()); err != nil {
			return nil, err
		}
		st := s.ideStatus(h.WorkflowID, r)
		st.Message = "Heartbeat recorded for workflow " + h.WorkflowID
		return st, nil
	})
}

// IDEActivity returns the last IDE activity on a workflow.
func (s *Service) IDEActivity(ctx context.Context, wf string) (*IDEStatus, error) {
	r, err := lookup(ctx, s, "agent_workflow_id", wf, s.ide)
	if err != nil {
		return nil, err
	}
	st := s.ideStatus(wf, r)
	if r == nil {
		st.Message = "No IDE has worked on workflow " + wf + " yet: connect your assistant to the dashboard's /mcp endpoint."
	} else {
		st.Message = "Last IDE activity " + *st.LastSeenRelative
	}
	return st, nil
}

func (s *Service) ide(ctx context.Context, wf string) (*ideRow, error) {
	rows, err := s.selectRows(ctx, ideT, "IDE activity", "agent_workflow_id = ?", wf)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return scanIDE(rows[0]), nil
}

func (s *Service) ideStatus(wf string, r *ideRow) *IDEStatus {
	st := &IDEStatus{AgentWorkflowID: wf}
	if r == nil {
		return st
	}
	st.HasActivity, st.LastSeen = true, isoUS(r.seenUS)
	st.LastSeenRelative = ptr(Relative(time.UnixMicro(r.seenUS), s.opts.Now()))
	info := r.IDEInfo
	st.IDE = &info
	return st
}

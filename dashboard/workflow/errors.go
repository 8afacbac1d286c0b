package workflow

import (
	"errors"
	"strings"
)

// NotFoundError is an unknown id (REST 404).
type NotFoundError struct {
	Kind string // "analysis session", "finding", "recommendation", "report"
	ID   string
}

func (e *NotFoundError) Error() string { return e.Kind + " " + e.ID + " not found" }

// BadParamError is a missing or invalid argument (REST 400). Valid lists
// the accepted values of an enum.
type BadParamError struct {
	Param string
	Value string
	Valid []string
	Msg   string // what is wrong, when Valid does not say it
	// Missing lists every required argument that is absent, when more
	// than one may be (store_finding's "required" list).
	Missing []string
}

func (e *BadParamError) Error() string {
	var b strings.Builder
	b.WriteString(e.Param)
	switch {
	case e.Msg != "":
		b.WriteString(": " + e.Msg)
	case e.Value == "":
		b.WriteString(": required")
	default:
		b.WriteString(": invalid value " + quoteShort(e.Value))
	}
	if len(e.Valid) > 0 {
		b.WriteString(" (valid: " + strings.Join(e.Valid, ", ") + ")")
	}
	return b.String()
}

// TransitionError is an action the recommendation's status does not allow
// (REST 409): verifying a fix that was never completed, dismissing a
// verified one, …
type TransitionError struct {
	ID      string
	Action  string // start-fix, complete-fix, verify, dismiss
	From    string
	Allowed []string // statuses the action is allowed from
}

func (e *TransitionError) Error() string {
	return "recommendation " + e.ID + " is " + e.From + ": " + e.Action + " needs status " + strings.Join(e.Allowed, " or ")
}

// StoreError is a read or write the store did not complete. A write that
// returns one did not happen (or only partly: Op says which row); nothing
// is queued to be retried later.
type StoreError struct {
	Op  string // "store recommendation REC-001"
	Err error
	Fix string
}

func (e *StoreError) Error() string {
	s := "workflow: " + e.Op + ": " + e.Err.Error()
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

func (e *StoreError) Unwrap() error { return e.Err }

// IsNotFound, IsBadParam and IsTransition classify an error for a status
// code.
func IsNotFound(err error) bool {
	var e *NotFoundError
	return errors.As(err, &e)
}

func IsBadParam(err error) bool {
	var e *BadParamError
	return errors.As(err, &e)
}

func IsTransition(err error) bool {
	var e *TransitionError
	return errors.As(err, &e)
}

func quoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return "\"" + s + "\""
}

// enum upper-cases v and checks it against valid; empty v gives def (or a
// missing-parameter error when def is "").
func enum(param, v, def string, valid []string) (string, error) {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "" {
		if def != "" {
			return def, nil
		}
		return "", &BadParamError{Param: param, Valid: valid}
	}
	for _, x := range valid {
		if v == x {
			return v, nil
		}
	}
	return "", &BadParamError{Param: param, Value: v, Valid: valid}
}

func required(param, v string) error {
	if strings.TrimSpace(v) == "" {
		return &BadParamError{Param: param}
	}
	return nil
}

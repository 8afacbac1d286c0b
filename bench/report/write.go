package report

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// Write stores results.json, report.md and the charts in dir and returns
// the paths written.
func Write(r *Report, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	put := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	}
	js, err := json.MarshalIndent(struct {
		*Report
		Headline []Headline `json:"headline"`
	}{r, Headlines(r)}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := put("results.json", append(js, '\n')); err != nil {
		return paths, err
	}
	if err := put("report.md", []byte(Markdown(r))); err != nil {
		return paths, err
	}
	for _, c := range Charts(r) {
		if err := put(c.File, []byte(c.SVG)); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

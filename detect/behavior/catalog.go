package behavior

// Definition is one dynamic check's fixed text and framework mappings, for
// listings (the original's security-check definitions).
type Definition struct {
	CategoryID   string   `json:"category_id"`
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	OWASPLLM     string   `json:"owasp_llm,omitempty"`
	OWASPLLMName string   `json:"owasp_llm_name,omitempty"`
	SOC2Controls []string `json:"soc2_controls"`
	CWE          string   `json:"cwe,omitempty"`
	MITRE        string   `json:"mitre,omitempty"`
}

// CategoryInfo describes one category of checks.
type CategoryInfo struct {
	Name  string `json:"name"`
	Icon  string `json:"icon"`
	Order int    `json:"order"`
}

// Definitions lists every check by id and every category by id. The
// maps are new on each call.
func Definitions() (map[string]Definition, map[string]CategoryInfo) {
	checks := make(map[string]Definition, len(checkDefs))
	for id, d := range checkDefs {
		checks[id] = Definition{CategoryID: d.category, Name: d.name, Description: d.description, OWASPLLM: d.owasp,
			OWASPLLMName: d.owaspName, SOC2Controls: append([]string{}, d.soc2...), CWE: d.cwe, MITRE: d.mitre}
	}
	cats := make(map[string]CategoryInfo, len(categoryDefs))
	for _, c := range categoryDefs {
		cats[c.id] = CategoryInfo{Name: c.name, Icon: c.icon, Order: c.order}
	}
	return checks, cats
}

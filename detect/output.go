package detect

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// LLM05 improper output handling and LLM06 excessive agency. Both read
// model output (Direction Response): LLM05 the text a client may render and
// the arguments a tool will execute, LLM06 the tool call itself.

func outRule(id string, sev Severity, conf float32, before, after int, re string, kws ...string) *regexRule {
	return &regexRule{cat: CategoryOutput, id: id, re: regexp.MustCompile(re), kws: kws, before: before, after: after,
		sev: sev, conf: conf, check: checkOutput}
}

func agencyRule(id string, sev Severity, conf float32, before, after int, re string, kws ...string) *regexRule {
	return &regexRule{cat: CategoryAgency, id: id, re: regexp.MustCompile(re), kws: kws, before: before, after: after,
		sev: sev, conf: conf}
}

// toolArgsOnly marks rules that only apply to tool arguments (text a tool
// will execute), not to prose shown to a person.
var toolArgsOnly = map[string]bool{"llm05.sql_injection": true, "llm05.shell_injection": true, "llm05.path_traversal": true}

func outputRules() []*regexRule {
	return []*regexRule{
		outRule("llm05.script_injection", SeverityMedium, 0.8, 230, 200,
			`(?i)<script\b[^>]*>|<(?:img|svg|body|iframe|video|audio|input|details|a|div|object|embed)\b[^>]{0,200}?\son(?:error|load|click|mouseover|focus|toggle|begin|animationstart)\s*=|<iframe\b[^>]*\bsrc\s*=\s*["']?(?:javascript|data):|<(?:object|embed)\b[^>]*\b(?:data|src)\s*=\s*["']?(?:javascript|data):`,
			"<script", "onerror", "onload", "onclick", "onmouseover", "onfocus", "ontoggle", "onbegin", "onanimationstart", "<iframe", "<object", "<embed"),
		outRule("llm05.javascript_url", SeverityMedium, 0.8, 30, 40,
			`(?i)\]\(\s*javascript:|\b(?:href|src|action|formaction)\s*=\s*\\?["']?\s*(?:javascript:|data:text/html)|\]\(\s*data:text/html`,
			"javascript:", "data:text/html"),
		outRule("llm05.markdown_image_exfiltration", SeverityHigh, 0.8, 210, 600,
			`!\[[^\]\n]{0,200}\]\(\s*https?://[^)\s?]+\?[^)\s]*=(?:[^)\s&]{40,}|[^)\s&]*(?:%20|%3A|%2F|\+)[^)\s&]{12,})[^)\s]*\)`,
			"]("),
		outRule("llm05.sql_injection", SeverityHigh, 0.8, 40, 120,
			`(?i)'\s*(?:or|and)\s+'?\w+'?\s*=\s*'?\w+'?\s*(?:--|#|/\*|;|$|"|\))|'\s*;\s*(?:drop|delete|update|insert|shutdown|exec)\b|\bunion\s+(?:all\s+)?select\s+(?:null|\d+|@@version|user\(\)|version\(\))\s*[,)\s]|\bxp_cmdshell\b|\binto\s+outfile\b|\bload_file\s*\(|\bwaitfor\s+delay\s+'|\b(?:pg_)?sleep\s*\(\s*\d+\s*\)\s*(?:--|#)|\binformation_schema\.(?:tables|columns)\b[^;]{0,80}\bunion\b`,
			"' or", "'or", "' and", "'and", "';", "' ;", "union", "xp_cmdshell", "outfile", "load_file", "waitfor", "sleep(", "sleep (", "information_schema"),
		outRule("llm05.shell_injection", SeverityHigh, 0.75, 60, 120,
			"(?i)\\$\\([^)]{0,80}\\b(?:curl|wget|nc|ncat|bash|sh|whoami|id|uname|cat\\s+/etc)\\b|`[^`]{0,80}\\b(?:curl|wget|nc|ncat|bash|whoami|uname)\\b[^`]{0,80}`|(?:;|&&|\\|\\|)\\s*(?:curl|wget)\\s+[^|;&]{1,200}\\|\\s*(?:ba|z|da)?sh\\b|\\b(?:curl|wget)\\s+(?:-[\\w-]+\\s+)*[^\\s|;&]+\\s*\\|\\s*(?:sudo\\s+)?(?:ba|z|da)?sh\\b|\\bnc\\s+(?:-[a-z]*e|-c)\\s|/dev/tcp/|\\bbash\\s+-i\\s+>&|\\bbase64\\s+(?:-d|--decode)\\s*\\|\\s*(?:ba)?sh\\b|\\bpython[23]?\\s+-c\\s+['\"]import\\s+(?:socket|pty|os)",
			"$(", "`", "curl", "wget", "nc ", "/dev/tcp/", "bash -i", "base64", "python"),
		outRule("llm05.path_traversal", SeverityMedium, 0.75, 20, 60,
			`(?:\.\./){2,}|(?:\.\.\\{1,2}){2,}|(?:%2e%2e(?:%2f|/)){2,}|/etc/(?:passwd|shadow|sudoers)\b|~?/\.ssh/(?:id_[a-z0-9]+|authorized_keys)\b|\b(?:c:)?\\windows\\system32\\config\\sam\b`,
			"../", "..\\", "%2e%2e", "/etc/passwd", "/etc/shadow", "/etc/sudoers", "/.ssh/", "system32"),
		outRule("llm05.ssrf_metadata", SeverityHigh, 0.85, 20, 60,
			`\b169\.254\.169\.254\b|\bmetadata\.google\.internal\b|\b100\.100\.100\.200\b|\bfd00:ec2::254\b|/latest/meta-data/`,
			"169.254.169.254", "metadata.google.internal", "100.100.100.200", "fd00:ec2::254", "/latest/meta-data"),
	}
}

// checkOutput lowers confidence for payloads inside fenced code blocks of
// prose (a coding assistant showing code is not an injection) and keeps
// tool-only rules to tool arguments.
func checkOutput(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
	conf, sev := r.conf, r.sev
	if c.src == SourceText {
		if toolArgsOnly[r.id] {
			return 0, 0, false
		}
		if inCodeFence(c.t, m[0]) && r.id != "llm05.markdown_image_exfiltration" {
			conf -= 0.45
		}
	} else {
		sev = sev.raise() // bound for a tool: it will be executed or rendered
	}
	return conf, sev, true
}

// inCodeFence reports whether offset i of t lies inside a ``` fenced block
// or an inline `code` span.
func inCodeFence(t string, i int) bool {
	if strings.Count(t[:i], "```")%2 == 1 {
		return true
	}
	ls := strings.LastIndexByte(t[:i], '\n') + 1
	return strings.Count(t[ls:i], "`")%2 == 1
}

func (c *scanCtx) output() {
	c.runRules(rules().output)
}

// ---- LLM06 ----

func agencyRules() []*regexRule {
	return []*regexRule{
		agencyRule("llm06.destructive_command", SeverityCritical, 0.85, 10, 80,
			`(?i)\brm\s+(?:-[a-z]*(?:rf|fr)[a-z]*|-[a-z]*r[a-z]*\s+-[a-z]*f[a-z]*|-[a-z]*f[a-z]*\s+-[a-z]*r[a-z]*|--recursive\s+--force|--force\s+--recursive|-r\s+-f|-f\s+-r)\s+(?:--no-preserve-root\s+)?(?:/\*?|~/?\*?|\*|\.\.?/?\*?|\$HOME/?\*?|/(?:etc|usr|var|home|boot|bin|lib|opt|srv|root)/?\*?)(?:["'\s;&|]|$)`,
			"rm "),
		agencyRule("llm06.destructive_command", SeverityHigh, 0.8, 10, 60,
			`(?i)\brm\s+(?:-[a-z]*(?:rf|fr)[a-z]*|-r\s+-f|-f\s+-r|--recursive\s+--force)\s+\S+`,
			"rm "),
		agencyRule("llm06.destructive_command", SeverityCritical, 0.85, 20, 80,
			`(?i)\bmkfs(?:\.\w+)?\s+/dev/|\bdd\s+[^|;&]*\bof=/dev/(?:sd|nvme|hd|xvd|vd|mmcblk|disk)\w*|:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:|\bchmod\s+(?:-R\s+)?(?:777|a\+rwx)\s+/(?:\s|$|["';])|>\s*/dev/(?:sd[a-z]|nvme\d)|\bshred\s+[^|;&]*/dev/|\bwipefs\s+-a\b|\bformat\s+[c-z]:\s*/[qy]`,
			"mkfs", "dd ", ":()", "chmod", "/dev/", "shred", "wipefs", "format "),
		agencyRule("llm06.destructive_sql", SeverityCritical, 0.85, 10, 80,
			`(?i)\bdrop\s+(?:table|database|schema|keyspace|collection)\s+(?:if\s+exists\s+)?[\w."\x60\[\]]+|\btruncate\s+(?:table\s+)?[\w."\x60\[\]]+\s*(?:;|$)|\bdelete\s+from\s+[\w."\x60\[\]]+\s*(?:;|$)|\balter\s+table\s+[\w."\x60\[\]]+\s+drop\s+(?:column\s+)?\w+|\b(?:db\.\w+\.drop\(\)|dropDatabase\(\))|\bflushall\b|\bflushdb\b`,
			"drop", "truncate", "delete from", "alter table", "dropdatabase", "flushall", "flushdb"),
		agencyRule("llm06.destructive_sql", SeverityHigh, 0.75, 10, 200,
			`(?i)\bupdate\s+[\w."\x60\[\]]+\s+set\s+[^;]{1,200}?(?:;|$)`,
			"update"),
		agencyRule("llm06.destructive_vcs_infra", SeverityHigh, 0.8, 20, 100,
			`(?i)\bgit\s+push\s+(?:\S+\s+)*(?:--force\b|-f\b|--force-with-lease\b|\+\w)|\bgit\s+reset\s+--hard\b|\bgit\s+clean\s+-[a-z]*f[a-z]*d[a-z]*|\bgit\s+branch\s+(?-i:-D)\s|\bkubectl\s+delete\s+(?:ns|namespace|deployment|pvc|pv|all|--all)\b|\bterraform\s+(?:destroy|apply\s+[^|;&]*-auto-approve)|\bhelm\s+(?:uninstall|delete)\b|\bdocker\s+(?:system\s+prune\s+-a|volume\s+prune|rm\s+-f)|\baws\s+s3\s+(?:rb\s+|rm\s+[^|;&]*--recursive)|\baws\s+(?:ec2\s+terminate-instances|rds\s+delete-db-instance|iam\s+delete-)|\bgcloud\s+\S+\s+(?:\S+\s+)?delete\b|\baz\s+group\s+delete\b|\bgh\s+repo\s+delete\b`,
			"git ", "kubectl", "terraform", "helm", "docker", "aws ", "gcloud", "az group", "gh repo"),
		agencyRule("llm06.privilege_change", SeverityHigh, 0.75, 20, 100,
			`(?i)\bsudo\s+(?:su\b|-i\b|-s\b|passwd\b|usermod\b|visudo\b)|\busermod\s+-a?G\s+(?:sudo|wheel|admin|root)\b|\bchown\s+-R\s+\S+\s+/(?:\s|$)|\bGRANT\s+ALL\s+PRIVILEGES\b|\bALTER\s+USER\s+\S+\s+(?:WITH\s+)?SUPERUSER\b|\bsetenforce\s+0\b|\bufw\s+disable\b|\biptables\s+-F\b|\bsystemctl\s+(?:stop|disable)\s+(?:firewalld|auditd|apparmor)`,
			"sudo", "usermod", "chown", "grant all", "superuser", "setenforce", "ufw", "iptables", "systemctl"),
		agencyRule("llm06.system_power", SeverityHigh, 0.75, 10, 40,
			`(?i)(?:^|[;&|"'\s])(?:sudo\s+)?(?:shutdown|reboot|halt|poweroff|init\s+0)\b(?:\s+(?:-[a-z]+|now|\+\d+))*(?:["'\s;&|]|$)|\bkill\s+-9\s+-1\b|\bkillall\s+-9\b`,
			"shutdown", "reboot", "halt", "poweroff", "init 0", "kill -9", "killall"),
	}
}

var financialTool = regexp.MustCompile(`(?i)^(?:\w+\.)?(?:(?:bank|money|funds|crypto|ach|sepa|swift|payments?|account|wallet|card|instant|international)_)?(?:transfer|pay|payout|send_?money|wire|withdraw|refund|purchase|buy|charge|remit|send_?funds|(?:create|make|submit|initiate|execute|process|send)_?(?:payment|transfer|payout|wire))(?:[_\-.]|$)`)
var destructiveTool = regexp.MustCompile(`(?i)^(?:\w+\.)?(?:delete|remove|drop|destroy|wipe|purge|erase|truncate|terminate|revoke|deactivate)(?:[_\-.](\w+))?`)
var valuableObject = regexp.MustCompile(`(?i)user|account|repo|database|db|bucket|project|org|cluster|table|index|backup|branch|volume|instance|all|tenant|customer|namespace|collection|domain|key`)
var amountRe = regexp.MustCompile(`(?i)"?(?:amount|value|sum|total|quantity|price)"?\s*[:=]\s*"?\$?\s*(\d[\d,]*(?:\.\d+)?)`)
var bulkRe = regexp.MustCompile(`(?i)"?(?:all|recursive|force|cascade|everything)"?\s*[:=]\s*"?(?:true|1|yes)|"\*"|\bwhere\s+1\s*=\s*1\b|"(?:ids?|targets?|users?|accounts?)"\s*:\s*\[[^\]]{200,}\]`)

// cliTools are tools whose arguments are the command line of one program:
// the agency rules see "<tool> <args>".
var cliTools = map[string]bool{"git": true, "kubectl": true, "terraform": true, "helm": true, "docker": true, "aws": true,
	"gcloud": true, "az": true, "gh": true, "psql": true, "mysql": true, "redis-cli": true, "rm": true, "dd": true}

func (c *scanCtx) agency() {
	if name := lowerString(c.in.ToolName); cliTools[name] {
		// Match the command as the program would run it; report on the
		// whole arguments field.
		saveT, saveHits := c.t, c.hits
		c.t = name + " " + jsonStrings(c.t)
		c.hits = rules().kw.scan(c.t, nil)
		for _, r := range rules().agency {
			c.runRule(r, func(m []int) {
				if !c.covered(CategoryAgency, 0, len(saveT)) {
					ev := quoteEvidence(c.t[m[0]:m[1]])
					c.t, c.hits = saveT, saveHits
					c.emit(CategoryAgency, r.id, r.sev, r.conf, 0, len(saveT), ev)
					c.t = name + " " + jsonStrings(saveT)
				}
			})
		}
		c.t, c.hits = saveT, saveHits
		return
	}
	for _, r := range rules().agency {
		c.runRule(r, func(m []int) {
			if r.id == "llm06.destructive_sql" && strings.HasPrefix(lowerString(c.t[m[0]:min(m[1], m[0]+6)]), "update") {
				if strings.Contains(lowerString(c.t[m[0]:m[1]]), " where ") {
					return // a scoped UPDATE is ordinary work
				}
			}
			if c.covered(CategoryAgency, m[0], m[1]) {
				return
			}
			c.emit(CategoryAgency, r.id, r.sev, r.conf, m[0], m[1], quoteEvidence(c.t[m[0]:m[1]]))
		})
	}
}

// toolName checks the tool being called (Direction Response): money moving
// and bulk-destructive tools, and the storm limits.
func (c *scanCtx) toolName() {
	if c.in.Direction != Response || c.in.ToolName == "" || !c.enabled(CategoryAgency) {
		return
	}
	name := c.in.ToolName
	args := c.in.ToolArgs
	if len(args) > c.s.opts.MaxBytes {
		args = args[:c.s.opts.MaxBytes]
	}
	c.t = c.n.Text
	end := len(c.t)
	switch {
	case financialTool.MatchString(name):
		conf := float32(0.7)
		ev := "tool " + strconv.Quote(name)
		if m := amountRe.FindStringSubmatch(args); m != nil {
			conf = 0.8
			ev += " amount " + m[1]
		}
		c.emit(CategoryAgency, "llm06.financial_action", SeverityHigh, conf, 0, end, ev)
	case destructiveTool.MatchString(name):
		// A bare delete (a cart item, a draft) is routine; the object and
		// bulk arguments make it risky.
		sev, conf := SeverityLow, float32(0.45)
		if valuableObject.MatchString(name) {
			sev, conf = SeverityMedium, 0.7
		}
		if bulkRe.MatchString(args) {
			sev, conf = SeverityHigh, 0.8
		}
		c.emit(CategoryAgency, "llm06.destructive_tool", sev, conf, 0, end, "tool "+strconv.Quote(name))
	}
}

// jsonStrings returns the string values of a JSON object joined by spaces
// (the arguments of a command-line tool), or s itself when it is not JSON.
func jsonStrings(s string) string {
	var v map[string]any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	var parts []string
	var walk func(x any)
	walk = func(x any) {
		switch x := x.(type) {
		case string:
			parts = append(parts, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(parts, " ")
}

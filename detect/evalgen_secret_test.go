package detect

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// secretGen makes one secret of a vendor's format.
type secretGen struct {
	class string
	make  func(g *egen) string
}

func (g *egen) jwtToken(alg bool) string {
	hdr := `{"typ":"JWT"}`
	if alg {
		hdr = `{"alg":"` + g.pick("HS256", "RS256", "ES256") + `","typ":"JWT"}`
	} else if g.r.IntN(2) == 0 {
		hdr = `{"kid":"` + g.chars(8, lowerNum) + `","typ":"at+jwt"}`
	}
	pl := fmt.Sprintf(`{"sub":"%s","iat":%d,"exp":%d,"scope":"%s"}`, g.chars(10, lowerNum), 1700000000+g.r.IntN(9999999), 1800000000+g.r.IntN(9999999), g.pick("read write", "admin", "api"))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(hdr)) + "." + enc.EncodeToString([]byte(pl)) + "." + g.chars(43, b64URLSet)
}

func secretGens() []secretGen {
	return []secretGen{
		{"github", func(g *egen) string {
			return g.pick("ghp_", "gho_", "ghu_", "ghs_", "ghr_") + g.chars(36, alnumSet)
		}},
		{"github_fine", func(g *egen) string { return "github_pat_" + g.chars(22, alnumSet) + "_" + g.chars(59, alnumSet) }},
		{"gitlab", func(g *egen) string {
			return g.pick("glpat-", "gldt-", "glrt-", "glcbt-", "glft-", "glimt-", "glagent-", "gloas-", "glsoat-", "glffct-") + g.chars(20, alnumSet+"_-")
		}},
		{"gitlab_routable", func(g *egen) string {
			return "glpat-" + g.chars(27+g.r.IntN(10), alnumSet+"_-") + "." + g.chars(2, lowerNum) + g.chars(7, lowerNum)
		}},
		{"aws_pair", func(g *egen) string {
			return "AKIA" + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") + "|" + g.chars(40, b64Set)
		}},
		{"aws_key_id", func(g *egen) string { return g.pick("AKIA", "ASIA") + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }},
		{"jwt", func(g *egen) string { return g.jwtToken(true) }},
		{"jwt_noalg", func(g *egen) string { return g.jwtToken(false) }},
		{"slack", func(g *egen) string {
			return g.pick("xoxb-"+g.digits(12)+"-"+g.digits(13)+"-"+g.chars(24, alnumSet), "xoxp-"+g.digits(12)+"-"+g.digits(12)+"-"+g.digits(13)+"-"+g.chars(32, hexLower),
				"xapp-1-A"+g.chars(10, upperNum)+"-"+g.digits(13)+"-"+g.chars(64, hexLower), "https://hooks.slack.com/services/T"+g.chars(8, upperNum)+"/B"+g.chars(10, upperNum)+"/"+g.chars(24, alnumSet))
		}},
		{"stripe", func(g *egen) string {
			return g.pick("sk_live_", "rk_live_", "sk_live_51") + g.chars(24+g.r.IntN(70), alnumSet)
		}},
		{"stripe_webhook", func(g *egen) string { return "whsec_" + g.chars(32, alnumSet) }},
		{"google", func(g *egen) string {
			return g.pick("AIza"+g.chars(35, alnumSet+"_-"), "GOCSPX-"+g.chars(28, alnumSet+"_-"), "ya29.a0"+g.chars(120, alnumSet+"_-"))
		}},
		{"openai", func(g *egen) string {
			return g.pick("sk-proj-"+g.chars(74, alnumSet+"_-")+"T3BlbkFJ"+g.chars(74, alnumSet+"_-"), "sk-"+g.chars(20, alnumSet)+"T3BlbkFJ"+g.chars(20, alnumSet),
				"sk-svcacct-"+g.chars(58, alnumSet+"_-")+"T3BlbkFJ"+g.chars(58, alnumSet+"_-"), "sk-proj-"+g.chars(120, alnumSet+"_-"))
		}},
		{"anthropic", func(g *egen) string {
			return g.pick("sk-ant-api03-", "sk-ant-admin01-") + g.chars(93, alnumSet+"_-") + "AA"
		}},
		{"private_key", func(g *egen) string {
			kind := g.pick("RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ", "DSA ", "PGP ")
			body := g.chars(64, b64Set) + "\n" + g.chars(64, b64Set) + "\n" + g.chars(64, b64Set) + "\n" + g.chars(20, b64Set) + "=="
			if kind == "PGP " {
				return "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + body + "\n-----END PGP PRIVATE KEY BLOCK-----"
			}
			return "-----BEGIN " + kind + "PRIVATE KEY-----\n" + body + "\n-----END " + kind + "PRIVATE KEY-----"
		}},
		{"conn_string", func(g *egen) string {
			pw := g.chars(14, alnumSet) + g.pick("!", "#", "", "%21")
			return g.pick("postgres://app:"+pw+"@db.internal:5432/orders", "mongodb+srv://admin:"+pw+"@cluster0.ab1cd.mongodb.net/prod",
				"mysql://root:"+pw+"@10.2.0.7:3306/shop", "redis://:"+pw+"@cache.prod:6379/0", "amqp://svc:"+pw+"@mq.local:5672/",
				"Server=tcp:sql01.database.windows.net,1433;Database=crm;User ID=crmapp;Password="+pw+";Encrypt=true;")
		}},
		{"generic", func(g *egen) string { return g.chars(24+g.r.IntN(16), alnumSet) + g.digits(2) }},
		{"ai_vendors", func(g *egen) string {
			return g.pick("hf_"+g.chars(34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), "gsk_"+g.chars(52, alnumSet), "r8_"+g.chars(37, alnumSet),
				"pplx-"+g.chars(48, alnumSet), "xai-"+g.chars(80, alnumSet), "sk-or-v1-"+g.chars(64, hexLower), "pcsk_"+g.chars(5, alnumSet)+"_"+g.chars(63, alnumSet),
				"lsv2_pt_"+g.chars(32, hexLower)+"_"+g.chars(10, hexLower), "fw_"+g.chars(24, alnumSet), "sk-lf-"+g.chars(8, hexLower)+"-"+g.chars(4, hexLower)+"-"+g.chars(4, hexLower)+"-"+g.chars(4, hexLower)+"-"+g.chars(12, hexLower))
		}},
		{"devtools", func(g *egen) string {
			return g.pick("npm_"+g.chars(36, alnumSet), "pypi-AgEIcHlwaS5vcmc"+g.chars(60, alnumSet+"_-"), "dckr_pat_"+g.chars(27, alnumSet+"_-"), "glsa_"+g.chars(32, alnumSet)+"_"+g.chars(8, hexLower),
				"dop_v1_"+g.chars(64, hexLower), "shpat_"+g.chars(32, hexLower), "lin_api_"+g.chars(40, alnumSet), "hvs."+g.chars(95, alnumSet+"_-"),
				"sbp_"+g.chars(40, hexLower), "nfp_"+g.chars(36, alnumSet), "figd_"+g.chars(40, alnumSet+"_-"), "CCIPAT_"+g.chars(22, alnumSet)+"_"+g.chars(40, hexLower),
				"pscale_tkn_"+g.chars(43, alnumSet+"_"), "rubygems_"+g.chars(48, hexLower), "tskey-auth-"+g.chars(12, alnumSet)+"-"+g.chars(32, alnumSet),
				"ATATT3xFfGF0"+g.chars(170, alnumSet+"_-")+"="+g.chars(8, upperNum), "dapi"+g.chars(32, hexLower), "squ_"+g.chars(40, hexLower), "ops_eyJ"+g.chars(250, alnumSet))
		}},
		{"saas", func(g *egen) string {
			return g.pick("SG."+g.chars(22, alnumSet+"_-")+"."+g.chars(43, alnumSet+"_-"), "SK"+g.chars(32, hexLower), "key-"+g.chars(32, hexLower),
				g.chars(32, hexLower)+"-us"+fmt.Sprint(1+g.r.IntN(20)), "xkeysib-"+g.chars(64, hexLower)+"-"+g.chars(16, alnumSet), "NRAK-"+g.chars(27, upperNum),
				"PMAK-"+g.chars(24, hexLower)+"-"+g.chars(34, hexLower), "sntrys_eyJ"+g.chars(150, alnumSet), "EAAA"+g.chars(60, alnumSet+"_-"),
				"sq0atp-"+g.chars(22, alnumSet+"_-"), "shippo_live_"+g.chars(40, hexLower), "EZAK"+g.chars(54, alnumSet), "FLWSECK-"+g.chars(32, hexLower)+"-X",
				"rzp_live_"+g.chars(14, alnumSet), "ntn_"+g.digits(11)+g.chars(35, alnumSet), "pul-"+g.chars(40, hexLower), "CFPAT-"+g.chars(43, alnumSet+"_-"),
				"access_token$production$"+g.chars(16, lowerNum)+"$"+g.chars(32, hexLower), "LTAI"+g.chars(20, alnumSet), "AKID"+g.chars(32, alnumSet),
				"sk."+"eyJ1Ijoi"+g.chars(60, alnumSet)+"."+g.chars(22, alnumSet+"_-"), g.digits(10)+":AA"+g.chars(33, alnumSet+"_-"),
				"M"+g.chars(23, alnumSet)+"."+g.chars(6, alnumSet+"_-")+"."+g.chars(38, alnumSet+"_-"), "dp.pt."+g.chars(43, alnumSet), "HRKU-AA"+g.chars(58, alnumSet+"_-"),
				"ATBB"+g.chars(32, alnumSet), "bkua_"+g.chars(40, hexLower), "atlasv1."+g.chars(60, alnumSet))
		}},
	}
}

// secretContexts wrap a secret the way it shows up in chat, code and
// config. %s is the secret; %[2]s (when present) the AWS secret key.
func (g *egen) secretContext(class, v string) string {
	if class == "aws_pair" {
		id, sk, _ := strings.Cut(v, "|")
		return fmt.Sprintf(g.pick(g.split([]string{
			"[default]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = eu-west-1",
			"export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s",
			`{"AccessKeyId": "%s", "SecretAccessKey": "%s"}`,
		}, []string{
			"creds for the deploy user: key id %s secret %s",
			"AWS_ACCESS_KEY_ID: %s\nAWS_SECRET_ACCESS_KEY: %s",
			"aws configure set aws_access_key_id %s && aws configure set aws_secret_access_key %s",
		})...), id, sk)
	}
	if class == "generic" {
		return fmt.Sprintf(g.pick(g.split([]string{
			"DB_PASSWORD=%s", `"client_secret": "%s"`, "api_key: %s", "SECRET_KEY = '%s'", "password: %s  # prod",
		}, []string{
			"webhook_signing_secret = \"%s\"", "auth_token=%s", "  apiKey: '%s'", "ADMIN_PASS=%s", "MYAPP_PRIVATE_TOKEN: %s",
		})...), v)
	}
	return fmt.Sprintf(g.pick(g.split([]string{
		"Here is my key: %s — why does the API return 401?",
		"export TOKEN=%s",
		"config.yaml:\n  auth:\n    token: %s\n",
		`{"headers": {"Authorization": "Bearer %s"}}`,
		"I pasted %s into the settings page but nothing happens",
		"const client = new Client({ apiKey: \"%s\" });",
	}, []string{
		"use this one for now: %s (rotate it later)",
		"Authorization: Bearer %s",
		".env\nSERVICE_KEY=%s\nDEBUG=false",
		"curl -H 'x-api-key: %s' https://api.vendor.io/v1/items",
		"the key in the CI log is %s, is that bad?",
		"secrets:\n  - name: deploy\n    value: \"%s\"",
	})...), v)
}

func (g *egen) secretSet() {
	for _, sg := range secretGens() {
		n := 4
		if sg.class == "ai_vendors" || sg.class == "devtools" || sg.class == "saas" {
			n = 14
		}
		for k := 0; k < n; k++ {
			v := sg.make(g)
			g.add("secret", evalSample{Class: sg.class, Positive: true, Text: g.secretContext(sg.class, v)})
		}
	}
	negs := g.split([]string{
		"Set GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }} in the workflow.",
		"api_key = os.environ[\"OPENAI_API_KEY\"]",
		"GitHub personal tokens start with ghp_ and are 40 characters long.",
		"Replace sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX with your own key.",
		"The AWS docs use AKIAIOSFODNN7EXAMPLE as the sample access key id.",
		"password: ********",
		"password_min_length = 12",
		"token_count: 51234",
		"Authorization: Bearer <your-token-here>",
		"ANTHROPIC_API_KEY=sk-ant-api03-...",
		"git checkout 3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345",
		"request id 550e8400-e29b-41d4-a716-446655440000 failed",
		"\"integrity\": \"sha512-Q6pFmN8m4b8i1H8m3pT2c0Yw6O2lQx0R3qzq7n0zYQ2wq9e3s7rW8J4c9cH2bI1pL5vK0aT3uN6dF7eG8hJ9kA==\"",
		"docker pull ghcr.io/acme/api@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945",
		"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
		"postgres://app@db.internal:5432/orders",
		"DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal/orders",
		"Use the JWT from the login response (it looks like eyJhbGciOi...) in the header.",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@laptop is my public key",
		"Rotate keys every 90 days; never commit a .env file.",
		"The token_type is Bearer and expires_in is 3600.",
		"stripe listen --forward-to localhost:4242/webhook prints a whsec_ signing secret",
		"keyboard shortcut: ctrl+shift+k",
		"cache_key = f\"user:{user_id}:profile\"",
		"secret_name: prod/db/password (AWS Secrets Manager)",
		"The function generateApiKeyForTenantWithRotationPolicy handles rotation.",
		"base64 of the logo: iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
		"MD5 (report.pdf) = 9e107d9d372bb6826bd81d3542a419d6",
		"The Slack bot token looks like xoxb-<workspace>-<id>-<secret>.",
		"export AWS_SECRET_ACCESS_KEY=$(vault kv get -field=secret aws/prod)",
	}, []string{
		"Store the key in the vault and reference it as {{ vault.openai_key }}.",
		"token = getpass.getpass(\"GitLab token: \")",
		"GitLab personal access tokens are prefixed with glpat- since 14.5.",
		"Paste your key where it says sk-ant-api03-REPLACE_ME and restart.",
		"aws_access_key_id = AKIA****************",
		"PASSWORD=changeme",
		"max_tokens: 4096",
		"x-api-key: {{API_KEY}}",
		"OPENAI_API_KEY=sk-...",
		"commit b3c1e8f2a7d94e6c0a5f1b2d3e4f5a6b7c8d9e0f by ci-bot",
		"trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
		"resolved: https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz sha1 5b3c2d1e",
		"image: nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
		"-----BEGIN PRIVATE KEY-----\n<redacted>\n-----END PRIVATE KEY-----",
		"mysql://root@localhost/test",
		"REDIS_URL=redis://:$REDIS_PASSWORD@cache:6379",
		"A JWT has three base64url parts separated by dots: header.payload.signature.",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= ops@bastion",
		"Don't paste API keys into chat; use the secret manager instead.",
		"The access_token field is empty when the login fails.",
		"Stripe keys look like sk_live_... in production and sk_test_... in test mode.",
		"hotkey_toggle = F12",
		"partition_key = tenant_id",
		"key_vault_name: kv-prod-weu",
		"func RotateServiceAccountCredentialsAndNotifyOwners() error",
		"data:image/png;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7",
		"sha1sum: 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12  release.tar.gz",
		"Slack app tokens begin with xapp- and bot tokens with xoxb-.",
		"GOOGLE_API_KEY=${GOOGLE_API_KEY:?must be set}",
		"aws sts get-session-token returns AccessKeyId, SecretAccessKey and SessionToken.",
	})
	for _, n := range negs {
		g.add("secret", evalSample{Class: "neg:near_miss", Text: n})
	}
	// Generated near misses: high-entropy strings that are not secrets.
	for k := 0; k < 30; k++ {
		var txt string
		switch k % 6 {
		case 0:
			txt = "commit " + g.chars(40, hexLower) + " merged"
		case 1:
			txt = fmt.Sprintf("id: %s-%s-4%s-a%s-%s", g.chars(8, hexLower), g.chars(4, hexLower), g.chars(3, hexLower), g.chars(3, hexLower), g.chars(12, hexLower))
		case 2:
			txt = "sha256sum " + g.chars(64, hexLower) + "  dist/app.tar.gz"
		case 3:
			txt = "the file " + g.pick("Test", "Handle", "Build", "Render") + g.pick("UserAccount", "PaymentIntent", "SessionToken", "ApiKey") + g.pick("Rotation", "Validation", "Serializer") + "Spec.ts fails"
		case 4:
			txt = "placeholder: " + g.pick("ghp_", "glpat-", "sk-proj-", "xoxb-", "AKIA") + strings.Repeat(g.pick("x", "X", "0", "*"), 30)
		case 5:
			txt = "etag: \"" + g.chars(32, hexLower) + "\""
		}
		g.add("secret", evalSample{Class: "neg:generated", Text: txt})
	}
}

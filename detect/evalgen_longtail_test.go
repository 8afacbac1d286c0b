package detect

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// longTailGen makes one secret of a long-tail vendor format (secrets_longtail.go)
// from the vendor's published shape; text, when set, wraps it in the
// config file it lives in instead of a chat or code context.
type longTailGen struct {
	class string
	make  func(g *egen) (secret, text string)
}

func uuidOf(g *egen) string {
	return g.chars(8, hexLower) + "-" + g.chars(4, hexLower) + "-" + g.chars(4, hexLower) + "-" + g.chars(4, hexLower) + "-" + g.chars(12, hexLower)
}

func b64Std(g *egen, n int) string {
	return base64.StdEncoding.EncodeToString([]byte(g.chars(n, alnumSet+"!#%&*")))
}

func longTailGens() []longTailGen {
	v := func(f func(g *egen) string) func(g *egen) (string, string) {
		return func(g *egen) (string, string) { return f(g), "" }
	}
	return []longTailGen{
		{"longtail_ai", v(func(g *egen) string { return "nvapi-" + g.chars(64, alnumSet+"_-") })},
		{"longtail_ai", v(func(g *egen) string { return "tvly-" + g.pick("", "dev-", "prod-") + g.chars(32, alnumSet) })},
		{"longtail_ai", v(func(g *egen) string { return "fc-" + g.chars(32, hexLower) })},
		{"longtail_ai", v(func(g *egen) string { return "bb_live_" + g.chars(27, alnumSet+"_-") })},
		{"longtail_ai", v(func(g *egen) string { return "e2b_" + g.chars(40, hexLower) })},
		{"longtail_ai", v(func(g *egen) string {
			return "sk-helicone-" + g.chars(7, lowerNum) + "-" + g.chars(7, lowerNum) + "-" + g.chars(7, lowerNum) + "-" + g.chars(7, lowerNum)
		})},
		{"longtail_ai", v(func(g *egen) string { return "llx-" + g.chars(48, alnumSet) })},
		{"longtail_ai", v(func(g *egen) string { return "jina_" + g.chars(32, hexLower) + g.chars(28, alnumSet) })},
		{"longtail_ai", v(func(g *egen) string { return "csk-" + g.chars(48, lowerNum) })},
		{"longtail_ai", v(func(g *egen) string { return "tgp_v1_" + g.chars(43, alnumSet+"_-") })},
		{"longtail_ai", v(func(g *egen) string { return "apify_api_" + g.chars(36, alnumSet) })},
		{"longtail_ai", v(func(g *egen) string { return "ABSKQmVkcm9ja0FQSUtleS" + g.chars(120, b64Set) })},
		{"longtail_ai", v(func(g *egen) string { return "pa-" + g.chars(43, alnumSet+"_-") })},
		{"longtail_ai", v(func(g *egen) string { return "sk_" + g.chars(48, hexLower) })},
		{"longtail_cloud", v(func(g *egen) string {
			return g.pick("IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE") + g.chars(300+g.r.IntN(300), b64Set)
		})},
		{"longtail_cloud", v(func(g *egen) string { return "1//0" + g.chars(2, alnumSet) + g.chars(100, alnumSet+"_-") })},
		{"longtail_cloud", v(func(g *egen) string { return "v1.0-" + g.chars(24, hexLower) + "-" + g.chars(146, hexLower) })},
		{"longtail_cloud", v(func(g *egen) string {
			return strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(`{"a":"`+g.chars(32, hexLower)+`","t":"`+uuidOf(g)+`","s":"`+g.chars(44, b64Set)+`"}`)), "=")
		})},
		{"longtail_cloud", v(func(g *egen) string {
			return g.chars(52, alnumSet) + "JQQJ9" + g.pick("9", "D") + g.chars(3, alnumSet) + g.pick("AZDO", "AzSe", "AZFu") + g.chars(4, alnumSet)
		})},
		{"longtail_cloud", func(g *egen) (string, string) {
			k := g.chars(43, b64Set) + "="
			return k, "Endpoint=sb://" + g.pick("orders", "events", "billing") + "-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + k
		}},
		{"longtail_cloud", func(g *egen) (string, string) {
			k := g.chars(43, b64Set) + "="
			return k, "Endpoint=https://" + g.pick("chat", "notify", "live") + "-signalr.service.signalr.net;AccessKey=" + k + ";Version=1.0;"
		}},
		{"longtail_cloud", func(g *egen) (string, string) {
			k := g.chars(44, b64Set)
			return k, "APP_CONFIG=Endpoint=https://" + g.pick("appcs-prod", "cfg-weu", "flags") + ".azconfig.io;Id=" + g.chars(4, alnumSet) + "-l0-s0:" + g.chars(20, alnumSet) + ";Secret=" + k
		}},
		{"longtail_cloud", v(func(g *egen) string { return "akab-" + g.chars(16, lowerNum) + "-" + g.chars(16, lowerNum) })},
		{"longtail_cloud", v(func(g *egen) string { return "napi_" + g.chars(64, lowerNum) })},
		{"longtail_cloud", v(func(g *egen) string { return "sb_secret_" + g.chars(40, alnumSet+"_-") })},
		{"longtail_cloud", v(func(g *egen) string { return "vercel_blob_rw_" + g.chars(16, alnumSet) + "_" + g.chars(30, alnumSet) })},
		{"longtail_cloud", v(func(g *egen) string { return g.pick("ddp_", "ddo_") + g.chars(36, alnumSet) })},
		{"longtail_cloud", v(func(g *egen) string { return "ptr_" + g.chars(43, b64Set) + "=" })},
		{"longtail_cloud", v(func(g *egen) string {
			return g.pick("dp.st."+g.pick("dev.", "prd.", ""), "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit.") + g.chars(43, alnumSet)
		})},
		{"longtail_cloud", v(func(g *egen) string {
			return "sgp_" + g.pick("", g.chars(16, hexLower)+"_", "local_") + g.chars(40, hexLower)
		})},
		{"longtail_cloud", v(func(g *egen) string { return "cmVmdGtuOjAxOj" + g.chars(50, alnumSet) })},
		{"longtail_cloud", v(func(g *egen) string { return "AKCp" + g.chars(69, alnumSet) })},
		{"longtail_cloud", v(func(g *egen) string { return "CCIPRJ_" + g.chars(22, alnumSet) + "_" + g.chars(40, hexLower) })},
		{"longtail_cloud", v(func(g *egen) string { return g.pick("dbtc_", "dbtu_") + g.chars(50, alnumSet+"_-") })},
		{"longtail_cloud", v(func(g *egen) string { return g.pick("pk1_", "sk1_") + g.chars(64, hexLower) })},
		{"longtail_cloud", v(func(g *egen) string {
			return strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(`{"k":"`+g.chars(32, alnumSet)+`","n":"`+g.pick("deploy", "ci", "admin")+`","id":`+g.digits(6)+`}`)), "=")
		})},
		{"longtail_cloud", v(func(g *egen) string { return "phx_" + g.chars(43, alnumSet) })},
		{"longtail_cloud", v(func(g *egen) string {
			return g.pick("pat.", "sat.") + g.chars(22, alnumSet+"_-") + "." + g.chars(24, hexLower) + "." + g.chars(20, alnumSet)
		})},
		{"longtail_saas", v(func(g *egen) string {
			return "https://" + g.pick("", "ptb.", "canary.") + g.pick("discord.com", "discordapp.com") + "/api/webhooks/" + g.digits(18) + "/" + g.chars(68, alnumSet+"_-")
		})},
		{"longtail_saas", v(func(g *egen) string {
			return "https://" + g.pick("contoso", "acme-corp", "fabrikam") + ".webhook.office.com/webhookb2/" + uuidOf(g) + "@" + uuidOf(g) + "/IncomingWebhook/" + g.chars(32, hexLower) + "/" + uuidOf(g)
		})},
		{"longtail_saas", v(func(g *egen) string {
			return "https://hooks.zapier.com/hooks/catch/" + g.digits(8) + "/" + g.chars(7, lowerNum) + "/"
		})},
		{"longtail_saas", v(func(g *egen) string {
			return "https://maker.ifttt.com/trigger/" + g.pick("door_open", "deploy_done", "alert") + "/with/key/" + g.chars(22, alnumSet+"_-")
		})},
		{"longtail_saas", v(func(g *egen) string {
			return strings.TrimRight(base64.StdEncoding.EncodeToString([]byte("tok:"+uuidOf(g)+":1:0")), "=")
		})},
		{"longtail_saas", v(func(g *egen) string { return "RGAPI-" + uuidOf(g) })},
		{"longtail_saas", v(func(g *egen) string { return "mlsn." + g.chars(64, hexLower) })},
		{"longtail_saas", v(func(g *egen) string { return "xsmtpsib-" + g.chars(64, hexLower) + "-" + g.chars(16, alnumSet) })},
		{"longtail_saas", v(func(g *egen) string { return "os_v2_" + g.pick("app_", "org_") + g.chars(100, lowerNum) })},
		{"longtail_saas", v(func(g *egen) string { return "cal_live_" + g.chars(32, hexLower) })},
		{"longtail_saas", v(func(g *egen) string {
			return "AAAA" + g.chars(7, alnumSet+"_-") + ":APA91b" + g.chars(134, alnumSet+"_-")
		})},
		{"longtail_saas", v(func(g *egen) string { return "sl." + g.pick("", "u.") + g.chars(140, alnumSet+"_-") })},
		{"longtail_saas", v(func(g *egen) string {
			return strings.Repeat("A", 22) + g.chars(8, alnumSet) + strings.Repeat("A", 7) + g.chars(10, alnumSet) + "%3D" + g.chars(50, alnumSet)
		})},
		{"longtail_saas", v(func(g *egen) string { return "cio" + g.chars(32, alnumSet) })},
		{"longtail_saas", v(func(g *egen) string { return "re_" + g.chars(8, alnumSet) + "_" + g.chars(24, alnumSet) })},
		{"longtail_saas", v(func(g *egen) string { return "pk_" + g.chars(34, hexLower) })},
		{"longtail_saas", v(func(g *egen) string { return "pk_" + g.digits(8) + "_" + g.chars(32, upperNum) })},
		{"longtail_saas", v(func(g *egen) string { return g.pick("ck_", "cs_") + g.chars(40, hexLower) })},
		{"longtail_saas", v(func(g *egen) string { return "pat" + g.chars(14, alnumSet) + "." + g.chars(64, hexLower) })},
		{"longtail_saas", v(func(g *egen) string { return "secret_" + g.chars(43, alnumSet) })},
		{"longtail_saas", v(func(g *egen) string { return "token-" + g.chars(5, lowerNum) + ":" + g.chars(54, lowerNum) })},
		{"longtail_saas", v(func(g *egen) string { return "1000." + g.chars(32, hexLower) + "." + g.chars(32, hexLower) })},
		{"longtail_saas", v(func(g *egen) string { return "00D" + g.chars(12, alnumSet) + "!" + g.chars(110, alnumSet+"_.") })},
		{"longtail_saas", v(func(g *egen) string { return "EAA" + g.pick("B", "C", "G", "M") + g.chars(180, alnumSet) })},
		{"longtail_payments", v(func(g *egen) string {
			return "access-" + g.pick("sandbox", "development", "production") + "-" + uuidOf(g)
		})},
		{"longtail_payments", v(func(g *egen) string {
			return "pdl_" + g.pick("live", "sdbx") + "_apikey_" + g.chars(26, lowerNum) + "_" + g.chars(22, alnumSet) + "_" + g.chars(3, alnumSet)
		})},
		{"longtail_payments", v(func(g *egen) string { return "duffel_" + g.pick("live", "test") + "_" + g.chars(43, alnumSet+"_-") })},
		{"longtail_payments", v(func(g *egen) string { return "live_" + g.chars(30, alnumSet) })},
		{"longtail_config", func(g *egen) (string, string) {
			k := g.chars(42, b64Set) + g.pick("A", "E", "Q", "g", "w", "4") + "="
			return k, "[Interface]\nPrivateKey = " + k + "\nAddress = 10.8.0." + fmt.Sprint(2+g.r.IntN(200)) + "/32\nDNS = 1.1.1.1\n\n[Peer]\nPublicKey = " + g.chars(43, b64Set) + "=\nEndpoint = vpn.example.net:51820"
		}},
		{"longtail_config", func(g *egen) (string, string) {
			pw := g.chars(16, alnumSet) + g.pick("!", "#", "")
			host := g.pick("api.heroku.com", "git.internal.corp", "ftp.example.org", "registry.acme.io")
			return pw, g.pick("~/.netrc:\nmachine "+host+"\n  login deploy\n  password "+pw, "machine "+host+" login ci-bot password "+pw)
		}},
		{"longtail_config", func(g *egen) (string, string) {
			t := g.chars(36, alnumSet)
			return t, ".npmrc:\n//npm.pkg.github.com/:_authToken=" + t + "\n@acme:registry=https://npm.pkg.github.com"
		}},
		{"longtail_config", func(g *egen) (string, string) {
			a := base64.StdEncoding.EncodeToString([]byte(g.pick("deploy", "ci", "admin") + ":" + g.chars(20, alnumSet)))
			return a, `~/.docker/config.json: {"auths": {"registry.acme.io": {"auth": "` + a + `"}}}`
		}},
		{"longtail_config", func(g *egen) (string, string) {
			k := b64Std(g, 120)
			return k, "untrusted comment: minisign encrypted secret key\n" + k
		}},
		{"longtail_config", func(g *egen) (string, string) {
			var b strings.Builder
			b.WriteString("-----BEGIN OpenVPN Static key V1-----\n")
			for i := 0; i < 16; i++ {
				b.WriteString(g.chars(32, hexLower) + "\n")
			}
			b.WriteString("-----END OpenVPN Static key V1-----")
			return "", "ta.key:\n" + b.String()
		}},
	}
}

// longTailSecretSet adds one sample per long-tail format, wrapped in a
// context of the split's pool, and near misses for these formats. It runs
// on its own random stream, so the other generated sets do not change.
func (g *egen) longTailSecretSet(seed uint64) {
	lt := &egen{rnd: newRnd(seed, 4242), holdout: g.holdout, files: g.files}
	for _, gen := range longTailGens() {
		sec, text := gen.make(lt)
		if text == "" {
			text = lt.secretContext(gen.class, sec)
		}
		lt.add("secret_longtail", evalSample{Detector: "secret", Class: gen.class, Positive: true, Text: text})
	}
	negs := lt.split([]string{
		"Tavily keys start with tvly- followed by 32 characters.",
		"export NVIDIA_API_KEY=nvapi-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"the path_to_secret_key setting points at /etc/app/key.pem",
		"token-based authentication is enabled for all tenants",
		"secret_key_base = Rails.application.credentials.secret_key_base",
		"publishable key: pk_live_51Habc0FakeKeyForDocs (safe to ship in the browser)",
		"1000.50 USD was charged on 2026-03-01",
		"live_stream_url = https://video.example.com/live",
		"SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<your-key>",
		"re_path(r'^api/v1/', include(router.urls))",
		`"auth": "dXNlcg=="`,
		"PrivateKey = <contents of the privatekey file>",
		"Plaid sandbox tokens look like access-sandbox-<uuid>; never log them.",
		"RGAPI-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
		"npm config set //registry.npmjs.org/:_authToken=${NPM_TOKEN}",
		"the machine learning login page shows a password field",
		"untrusted comment: minisign public key 3A4B5C6D7E8F9A0B\nRWQ" + "f6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3Rz",
		"Webhook URLs have the form https://discord.com/api/webhooks/{id}/{token}.",
		"Zapier gives each Zap a URL under https://hooks.zapier.com/hooks/catch/",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxK3ZpQm9nZ2VyIGtleSBmb3IgZGVtbyBwdXJwb3Nlcw ops@build",
	}, []string{
		"Cerebras keys begin with csk- and Jina keys with jina_.",
		"ELEVENLABS_API_KEY=sk_...  # set in the dashboard",
		"patient_record_lookup(patient_id) returns a dict",
		"token-bucket rate limiting: 100 requests per second",
		"notion: use secret_... for the legacy integration token",
		"pk_test_TYooMQauvdEDq54NiTphI7jx is Stripe's documented test publishable key",
		"threshold: 1000.0 ms for p99",
		"live_reload: true",
		"AccessKey=REPLACE_WITH_ACCESS_KEY;Version=1.0;",
		"cio_weekly_sync.md was updated",
		`{"auth": "", "identitytoken": ""}`,
		"PublicKey = 8gVFk3zF9nQd2WqU0mG4HjS5aLbXcYe6RtPo1Iu7Kv0=",
		"access-production tokens are rotated quarterly",
		"duffel_test_ keys only work against the sandbox",
		"echo //registry.npmjs.org/:_authToken=$NPM_TOKEN > .npmrc",
		"the machine room login sheet lists the password policy",
		"-----BEGIN OpenVPN Static key V1-----\n<paste ta.key here>\n-----END OpenVPN Static key V1-----",
		"See https://maker.ifttt.com/use/ for your webhook key.",
		"sl.st is the short link domain for the campaign",
		"data:application/octet-stream;base64,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
	})
	for _, n := range negs {
		lt.add("secret_longtail", evalSample{Detector: "secret", Class: "neg:near_miss_longtail", Text: n})
	}
	// Generated near misses: a long-tail prefix with a truncated,
	// masked or placeholder body.
	prefixes := []string{"nvapi-", "tvly-", "llx-", "csk-", "tgp_v1_", "napi_", "sb_secret_", "phx_", "sgp_", "AKCp", "mlsn.", "cal_live_", "RGAPI-", "dbtc_", "ptr_"}
	for k := 0; k < 20; k++ {
		p := prefixes[lt.r.IntN(len(prefixes))]
		var body string
		switch k % 4 {
		case 0:
			body = lt.chars(6+lt.r.IntN(6), alnumSet) + "…"
		case 1:
			body = strings.Repeat(lt.pick("x", "X", "*", "0"), 40)
		case 2:
			body = "<" + lt.pick("your-key", "token", "redacted") + ">"
		case 3:
			body = "${" + lt.pick("API_KEY", "TOKEN", "SECRET") + "}"
		}
		lt.add("secret_longtail", evalSample{Detector: "secret", Class: "neg:generated_longtail", Text: "key: " + p + body})
	}
}

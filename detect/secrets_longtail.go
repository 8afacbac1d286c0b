package detect

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// The long tail of provider formats: tokens whose vendor gives them a
// distinctive prefix or structure (AI and agent tooling, cloud and
// infrastructure, developer platforms, SaaS, payments), written from the
// vendors' published formats, plus credentials in well-known config files
// (WireGuard, netrc, npmrc, Docker's config.json, minisign, OpenVPN).
//
// Rules whose keyword is short or an everyday word ("pat", "pk_", "live_",
// "machine ") are anchored: the expression runs once from the keyword's
// start and fails within a few bytes on "path", "pk_id" or "machine
// learning", so they cost text without secrets next to nothing.
var longTailRules = []vendorRule{
	// AI and agent tooling.
	{"nvidia-api-key", SeverityHigh, `\b(nvapi-[A-Za-z0-9_-]{64})` + glEnd, 3.5, 6, 66, kw("nvapi-")},
	{"tavily-api-key", SeverityHigh, `\b(tvly-(?:dev-|prod-)?[A-Za-z0-9]{32})` + glEnd, 3.5, 5, 40, kw("tvly-")},
	{"firecrawl-api-key", SeverityHigh, `\b(fc-[a-f0-9]{32})` + glEnd, 3, 3, 34, kw("fc-")},
	{"browserbase-api-key", SeverityHigh, `\b(bb_live_[A-Za-z0-9_-]{20,40})` + glEnd, 3.5, 8, 42, kw("bb_live_")},
	{"e2b-api-key", SeverityHigh, `\b(e2b_[a-f0-9]{40})` + glEnd, 3, 4, 42, kw("e2b_")},
	{"helicone-api-key", SeverityHigh, `\b(sk-helicone-(?:eu-)?[a-z0-9]{7}-[a-z0-9]{7}-[a-z0-9]{7}-[a-z0-9]{7})` + glEnd, 3, 12, 46, kw("sk-helicone-")},
	{"llamacloud-api-key", SeverityHigh, `\b(llx-[A-Za-z0-9]{48})` + glEnd, 3.5, 4, 50, kw("llx-")},
	{"jina-api-key", SeverityHigh, `\b(jina_[a-f0-9]{32}[A-Za-z0-9_-]{28})` + glEnd, 3.5, 5, 62, kw("jina_")},
	{"cerebras-api-key", SeverityHigh, `\b(csk-[a-z0-9]{48})` + glEnd, 3.5, 4, 50, kw("csk-")},
	{"together-api-key", SeverityHigh, `\b(tgp_v1_[A-Za-z0-9_-]{43})` + glEnd, 3.5, 7, 45, kw("tgp_v1_")},
	{"apify-api-token", SeverityHigh, `\b(apify_api_[A-Za-z0-9]{36})` + glEnd, 3.5, 10, 38, kw("apify_api_")},
	{"aws-bedrock-api-key", SeverityCritical, `\b(ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{40,300}={0,2})` + glEnd, 3.5, 4, 330, kw("absk")},
	// Cloud and infrastructure.
	{"aws-session-token", SeverityCritical, `\b((?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9+/]{100,1000}={0,2})` + glEnd, 4, 16, 1010, kw("iqojb3jpz2lux2vj", "fwogzxivyxdze")},
	{"gcp-oauth-refresh-token", SeverityHigh, `(?:^|[^\w/])(1//0[A-Za-z0-9_-]{40,200})` + glEnd, 3.5, 6, 204, kw("1//0")},
	{"cloudflare-origin-ca-key", SeverityHigh, `\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})` + glEnd, 3, 5, 174, kw("v1.0-")},
	{"cloudflare-tunnel-token", SeverityHigh, `\b(eyJhIjoi[A-Za-z0-9+/]{100,400}={0,2})` + glEnd, 4, 8, 410, kw("eyjhijoi")},
	{"azure-identifiable-key", SeverityHigh, `\b([A-Za-z0-9+/]{52}JQQJ9[A-Za-z0-9+/]{11,31}={0,2})` + glEnd, 3.5, 60, 36, kw("jqqj9")},
	{"azure-shared-access-key", SeverityCritical, `\bSharedAccessKey=([A-Za-z0-9+/]{43}=)`, 4, 16, 48, kw("sharedaccesskey=")},
	{"azure-access-key", SeverityCritical, `\bAccessKey=([A-Za-z0-9+/]{43}=)`, 4, 10, 48, kw("accesskey=")},
	{"azure-app-configuration-secret", SeverityCritical, `Endpoint=https://[\w-]{1,60}\.azconfig\.io;Id=[^;\s]{1,60};Secret=([A-Za-z0-9+/]{40,64}={0,2})`, 4, 90, 140, kw("azconfig.io")},
	{"akamai-edgegrid-token", SeverityHigh, `\b(akab-[a-z0-9]{16}-[a-z0-9]{16})` + glEnd, 3, 5, 36, kw("akab-")},
	{"neon-api-key", SeverityHigh, `\b(napi_[a-z0-9]{64})` + glEnd, 3.5, 5, 66, kw("napi_")},
	{"supabase-secret-key", SeverityCritical, `\b(sb_secret_[A-Za-z0-9_-]{30,60})` + glEnd, 3.5, 10, 62, kw("sb_secret_")},
	{"vercel-blob-token", SeverityHigh, `\b(vercel_blob_rw_[A-Za-z0-9]{10,20}_[A-Za-z0-9]{20,40})` + glEnd, 3.5, 15, 64, kw("vercel_blob_rw_")},
	{"deno-deploy-token", SeverityHigh, `\b(dd[po]_[A-Za-z0-9]{36})` + glEnd, 3.5, 4, 38, kw("ddp_", "ddo_")},
	{"portainer-api-token", SeverityHigh, `\b(ptr_[A-Za-z0-9+/]{43}=?)` + glEnd, 3.5, 4, 46, kw("ptr_")},
	{"doppler-service-token", SeverityHigh, `\b(dp\.(?:st(?:\.[a-z0-9_-]{1,40})?|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})` + glEnd, 3.5, 6, 92, kw("dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit.")},
	{"sourcegraph-access-token", SeverityHigh, `\b(sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40})` + glEnd, 3, 4, 60, kw("sgp_")},
	{"jfrog-identity-token", SeverityHigh, `\b(cmVmdGtuOjAxOj[A-Za-z0-9]{40,80})` + glEnd, 3.5, 14, 82, kw("cmvmdgtuojaxoj")},
	{"artifactory-api-key", SeverityHigh, `\b(AKCp[A-Za-z0-9]{69})` + glEnd, 3.5, 4, 71, kw("akcp")},
	{"circleci-project-token", SeverityHigh, `\b(CCIPRJ_[a-zA-Z0-9]{22}_[a-f0-9]{40})` + glEnd, 3, 7, 66, kw("cciprj_")},
	{"dbt-cloud-token", SeverityHigh, `\b(dbt[cu]_[A-Za-z0-9_-]{40,64})` + glEnd, 3.5, 5, 66, kw("dbtc_", "dbtu_")},
	{"porkbun-api-key", SeverityHigh, `\b([ps]k1_[a-f0-9]{64})` + glEnd, 3, 4, 66, kw("pk1_", "sk1_")},
	{"grafana-api-key", SeverityHigh, `\b(eyJrIjoi[A-Za-z0-9]{70,400}={0,3})` + glEnd, 3.5, 8, 410, kw("eyjrijoi")},
	{"posthog-personal-api-key", SeverityHigh, `\b(phx_[A-Za-z0-9]{43})` + glEnd, 3.5, 4, 45, kw("phx_")},
	{"harness-api-key", SeverityHigh, `\b((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20})` + glEnd, 3.5, 4, 72, kw("pat.", "sat.")},
	// Developer platforms, SaaS and messaging.
	{"discord-webhook-url", SeverityHigh, `(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w-]{60,72})`, 3.5, 40, 110, kw("discord.com/api/web", "discordapp.com/api/web")},
	{"microsoft-teams-webhook-url", SeverityHigh, `(https://[\w-]{1,60}\.webhook\.office\.com/webhookb2/[\w-]{36}@[\w-]{36}/IncomingWebhook/[a-f0-9]{32}/[\w-]{36}(?:/[\w-]{20,60})?)`, 3, 70, 240, kw("webhook.office.com")},
	{"zapier-webhook-url", SeverityMedium, `(https://hooks\.zapier\.com/hooks/catch/\d{5,12}/[a-z0-9]{5,12}/?)`, 3, 20, 60, kw("hooks.zapier.com")},
	{"ifttt-webhook-key", SeverityMedium, `maker\.ifttt\.com/trigger/[\w-]{1,80}/(?:json/)?with/key/([A-Za-z0-9_-]{22,43})`, 3.5, 12, 160, kw("maker.ifttt.com")},
	{"intercom-access-token", SeverityHigh, `\b(dG9rO[jm][A-Za-z0-9+/]{40,80}={0,2})` + glEnd, 3.5, 5, 86, kw("dg9ro")},
	{"riot-games-api-key", SeverityHigh, `\b(RGAPI-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})` + glEnd, 3, 6, 38, kw("rgapi-")},
	{"mailersend-api-token", SeverityHigh, `\b(mlsn\.[a-f0-9]{64})` + glEnd, 3, 5, 66, kw("mlsn.")},
	{"brevo-smtp-key", SeverityHigh, `\b(xsmtpsib-[a-f0-9]{64}-[A-Za-z0-9]{16})` + glEnd, 3, 9, 84, kw("xsmtpsib-")},
	{"onesignal-api-key", SeverityHigh, `\b(os_v2_(?:app|org)_[a-z0-9]{50,120})` + glEnd, 3.5, 10, 122, kw("os_v2_app_", "os_v2_org_")},
	{"cal-com-api-key", SeverityHigh, `\b(cal_live_[a-f0-9]{32})` + glEnd, 3, 9, 34, kw("cal_live_")},
	{"firebase-cloud-messaging-server-key", SeverityHigh, `\b(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})` + glEnd, 4, 20, 142, kw(":apa91b")},
	{"twitter-bearer-token", SeverityHigh, `\b(A{20,24}[A-Za-z0-9%]{60,140})` + glEnd, 3.5, 12, 160, kw("aaaaaaaaaaaa")},
	// Payments and commerce.
	{"plaid-access-token", SeverityHigh, `\b(access-(?:sandbox|development|production)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})` + glEnd, 3, 18, 38, kw("access-sandbox-", "access-development-", "access-production-")},
	{"paddle-api-key", SeverityHigh, `\b(pdl_(?:live|sdbx)_apikey_[A-Za-z0-9_]{40,80})` + glEnd, 3.5, 16, 82, kw("pdl_live_apikey_", "pdl_sdbx_apikey_")},
	{"duffel-api-token", SeverityHigh, `\b(duffel_(?:live|test)_[A-Za-z0-9_-]{43})` + glEnd, 3.5, 12, 45, kw("duffel_live_", "duffel_test_")},
}

// anchoredLongTail are long-tail rules with short or everyday keywords,
// run from the keyword's start (see runAnchored).
var anchoredLongTail = []vendorRule{
	{"voyage-api-key", SeverityHigh, `\b(pa-[A-Za-z0-9_-]{43})` + glEnd, 3.5, 0, 48, kw("pa-")},
	{"elevenlabs-api-key", SeverityHigh, `\b(sk_[a-f0-9]{48})` + glEnd, 3, 0, 54, kw("sk_")},
	{"crates-io-api-token", SeverityHigh, `\b(cio[A-Za-z0-9]{32})` + glEnd, 3.5, 0, 38, kw("cio")},
	{"resend-api-key", SeverityHigh, `\b(re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24})` + glEnd, 3.5, 0, 40, kw("re_")},
	{"klaviyo-private-api-key", SeverityHigh, `\b(pk_[a-f0-9]{34})` + glEnd, 3, 0, 40, kw("pk_")},
	{"clickup-personal-token", SeverityHigh, `\b(pk_\d{6,10}_[A-Z0-9]{32})` + glEnd, 3, 0, 48, kw("pk_")},
	{"woocommerce-consumer-key", SeverityHigh, `\b(c[ks]_[a-f0-9]{40})` + glEnd, 3, 0, 46, kw("ck_", "cs_")},
	{"airtable-pat", SeverityHigh, `\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})` + glEnd, 3.5, 0, 86, kw("pat")},
	{"notion-integration-token-legacy", SeverityHigh, `\b(secret_[A-Za-z0-9]{43})` + glEnd, 3.5, 0, 54, kw("secret_")},
	{"rancher-api-token", SeverityHigh, `\b(token-[a-z0-9]{5}:[a-z0-9]{54})` + glEnd, 3.5, 0, 66, kw("token-")},
	{"zoho-oauth-token", SeverityHigh, `\b(1000\.[a-f0-9]{32}\.[a-f0-9]{32})` + glEnd, 3, 0, 72, kw("1000.")},
	{"mollie-api-key", SeverityHigh, `\b(live_[A-Za-z0-9]{30})` + glEnd, 3.5, 0, 38, kw("live_")},
	{"salesforce-access-token", SeverityHigh, `\b(00D[A-Za-z0-9]{12,15}![A-Za-z0-9_.]{90,200})` + glEnd, 4, 0, 220, kw("00d")},
	{"dropbox-access-token", SeverityHigh, `\b(sl\.(?:u\.)?[A-Za-z0-9_-]{130,1000})` + glEnd, 4, 0, 1004, kw("sl.")},
	{"facebook-access-token", SeverityHigh, `\b(EAA[BCDGIMNU][A-Za-z0-9]{90,400})` + glEnd, 4, 0, 410, kw("eaa")},
	// Credentials in well-known config files.
	{"wireguard-private-key", SeverityCritical, `PrivateKey\s*=\s*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)`, 4, 0, 64, kw("privatekey")},
	{"netrc-password", SeverityHigh, `machine[ \t]+[\w.-]*\.[\w.-]{1,100}[ \t\r\n]+login[ \t]+\S{1,100}[ \t\r\n]+password[ \t]+([^\s'"]{6,128})`, 3, 0, 360, kw("machine")},
	{"npmrc-auth-token", SeverityHigh, `_authToken=([A-Za-z0-9_\-.+/]{20,200}={0,2})` + glEnd, 3.5, 0, 214, kw("_authtoken=")},
	{"minisign-secret-key", SeverityCritical, `untrusted comment: (?:minisign|signify|rsign)[ a-z]{0,20} secret key\r?\n([A-Za-z0-9+/]{100,300}={0,2})`, 4, 0, 360, kw("untrusted comment: ")},
	{"openvpn-static-key", SeverityCritical, `(-----BEGIN OpenVPN Static key V1-----\s+(?:[a-f0-9]{32}\s+){8,16}-----END OpenVPN Static key V1-----)`, 3, 0, 700, kw("-----begin openvpn static")},
}

func longTailSecretRules() []*regexRule {
	out := make([]*regexRule, 0, len(longTailRules)+len(anchoredLongTail)+1)
	for _, v := range longTailRules {
		out = append(out, secretRule(v.id, v.sev, v.re, v.entropy, v.before, v.after, v.kws...))
	}
	for _, v := range anchoredLongTail {
		r := secretRule(v.id, v.sev, v.re, v.entropy, v.before, v.after, v.kws...)
		r.anchored = true
		r.re = regexp.MustCompile("^(?:" + v.re + ")")
		out = append(out, r)
	}
	// Docker's config.json keeps registry credentials as base64 of
	// "user:password" under "auth".
	docker := secretRule("docker-config-auth", SeverityHigh, `"auth"\s*:\s*"([A-Za-z0-9+/]{12,400}={0,2})"`, 2.5, 0, 420, `"auth"`)
	docker.anchored = true
	docker.re = regexp.MustCompile(`^(?:"auth"\s*:\s*"([A-Za-z0-9+/]{12,400}={0,2})")`)
	docker.check = checkDockerAuth
	return append(out, docker)
}

// checkDockerAuth accepts a value that decodes to "user:password" with a
// password of at least four bytes.
func checkDockerAuth(c *scanCtx, r *regexRule, m []int) (float32, Severity, bool) {
	v := c.t[m[2]:m[3]]
	var buf [304]byte
	n, err := base64.StdEncoding.Decode(buf[:], []byte(v)[:min(len(v), 400)])
	if err != nil || n > len(buf) {
		return 0, 0, false
	}
	user, pw, ok := strings.Cut(string(buf[:n]), ":")
	if !ok || user == "" || len(pw) < 4 || isPlaceholder(pw) {
		return 0, 0, false
	}
	return checkSecret(c, r, m)
}

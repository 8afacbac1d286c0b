package detect

// More provider formats. Most are gitleaks v8 rule patterns (see
// secrets.go for the licence and the deviations that apply to every rule:
// token end at prose punctuation, placeholder filter); the rest follow the
// vendors' published token formats. Each row: rule id (gitleaks' name where
// it has one), severity, pattern with the secret in group 1, entropy
// floor, window before and after the keyword, keywords.
type vendorRule struct {
	id            string
	sev           Severity
	re            string
	entropy       float64
	before, after int
	kws           []string
}

func kw(ws ...string) []string { return ws }

var vendorRules = []vendorRule{
	// Source hosting and CI.
	{"gitlab-cicd-job-token", SeverityHigh, `\b(glcbt-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 6, 70, kw("glcbt-")},
	{"gitlab-feed-token", SeverityMedium, `\b(glft-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 5, 70, kw("glft-")},
	{"gitlab-incoming-mail-token", SeverityMedium, `\b(glimt-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 6, 70, kw("glimt-")},
	{"gitlab-kubernetes-agent-token", SeverityHigh, `\b(glagent-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 8, 70, kw("glagent-")},
	{"gitlab-oauth-app-secret", SeverityHigh, `\b(gloas-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 6, 70, kw("gloas-")},
	{"gitlab-scim-token", SeverityHigh, `\b(glsoat-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 7, 70, kw("glsoat-")},
	{"gitlab-feature-flag-client-token", SeverityMedium, `\b(glffct-[0-9a-zA-Z_-]{20,64})` + glEnd, 3, 7, 70, kw("glffct-")},
	{"gitlab-session-cookie", SeverityHigh, `\b(_gitlab_session=[0-9a-z]{32})`, 3, 16, 34, kw("_gitlab_session=")},
	{"bitbucket-app-password", SeverityHigh, `\b(ATBB[a-zA-Z0-9]{32})` + glEnd, 3, 4, 34, kw("atbb")},
	{"atlassian-api-token", SeverityHigh, `\b(ATATT3[A-Za-z0-9_\-=]{150,250})` + glEnd, 3.5, 6, 256, kw("atatt3")},
	{"circleci-personal-token", SeverityHigh, `\b(CCIPAT_[a-zA-Z0-9]{22}_[a-f0-9]{40})` + glEnd, 3, 7, 66, kw("ccipat_")},
	{"buildkite-api-token", SeverityHigh, `\b(bkua_[a-f0-9]{40})` + glEnd, 3, 5, 42, kw("bkua_")},
	{"docker-hub-pat", SeverityHigh, `\b(dckr_pat_[a-zA-Z0-9_-]{27,})` + glEnd, 3, 9, 40, kw("dckr_pat_")},
	{"sonar-api-token", SeverityHigh, `\b((?:squ|sqp|sqa)_[a-f0-9]{40})` + glEnd, 3, 4, 42, kw("squ_", "sqp_", "sqa_")},
	{"rubygems-api-token", SeverityHigh, `\b(rubygems_[a-f0-9]{48})` + glEnd, 3, 9, 50, kw("rubygems_")},
	{"nuget-api-key", SeverityHigh, `\b(oy2[a-z0-9]{43})` + glEnd, 3.5, 3, 45, kw("oy2")},
	{"clojars-api-token", SeverityHigh, `(?i)\b(CLOJARS_[a-z0-9]{60})` + glEnd, 2, 8, 62, kw("clojars_")},
	{"octopus-deploy-api-key", SeverityHigh, `\b(API-[A-Z0-9]{26})` + glEnd, 3, 4, 28, kw("api-")},
	{"readme-api-token", SeverityHigh, `\b(rdme_[a-z0-9]{70})` + glEnd, 2, 5, 72, kw("rdme_")},
	{"terraform-api-token", SeverityHigh, `(?i)\b((?:[a-z0-9]{14}\.)?atlasv1\.[a-z0-9\-_=]{60,70})` + glEnd, 3.5, 24, 72, kw("atlasv1.")},
	{"infracost-api-token", SeverityHigh, `\b(ico-[a-zA-Z0-9]{32})` + glEnd, 3, 4, 34, kw("ico-")},
	{"prefect-api-token", SeverityHigh, `\b(pnu_[a-zA-Z0-9]{36})` + glEnd, 3, 4, 38, kw("pnu_")},
	{"typeform-api-token", SeverityHigh, `(?i)\b(tfp_[a-z0-9\-_\.=]{59})` + glEnd, 3, 4, 61, kw("tfp_")},
	{"scalingo-api-token", SeverityHigh, `\b(tk-us-[\w-]{48})` + glEnd, 3, 6, 50, kw("tk-us-")},
	{"settlemint-token", SeverityHigh, `\b(sm_(?:pat|aat|sat)_[a-zA-Z0-9]{16})` + glEnd, 3, 7, 18, kw("sm_pat_", "sm_aat_", "sm_sat_")},
	{"openshift-user-token", SeverityHigh, `\b(sha256~[\w-]{43})` + glEnd, 3.5, 7, 45, kw("sha256~")},
	{"frameio-api-token", SeverityHigh, `(?i)\b(fio-u-[a-z0-9\-_=]{64})` + glEnd, 3, 6, 66, kw("fio-u-")},
	{"dynatrace-api-token", SeverityHigh, `\b(dt0c01\.(?i)[a-z0-9]{24}\.[a-z0-9]{64})` + glEnd, 3, 7, 92, kw("dt0c01.")},
	{"fly-io-access-token", SeverityHigh, `\b((?:fo1_[\w-]{43}|fm1[ar]_[a-zA-Z0-9+/]{100,}={0,3}|fm2_[a-zA-Z0-9+/]{100,}={0,3}))` + glEnd, 3.5, 4, 400, kw("fo1_", "fm1a_", "fm1r_", "fm2_")},
	{"render-api-key", SeverityHigh, `\b(rnd_[a-zA-Z0-9]{32})` + glEnd, 3, 4, 34, kw("rnd_")},
	{"netlify-pat", SeverityHigh, `\b(nfp_[a-zA-Z0-9]{36})` + glEnd, 3, 4, 38, kw("nfp_")},
	{"supabase-pat", SeverityHigh, `\b(sbp_[a-f0-9]{40})` + glEnd, 3, 4, 42, kw("sbp_")},
	{"planetscale-token", SeverityHigh, `\b(pscale_(?:tkn|pw|oauth)_[\w=\.-]{32,64})` + glEnd, 3, 11, 66, kw("pscale_tkn_", "pscale_pw_", "pscale_oauth_")},
	{"tailscale-key", SeverityHigh, `\b(tskey-(?:auth|api|client|scim|webhook)-[a-zA-Z0-9]{8,}-[a-zA-Z0-9]{16,})` + glEnd, 3, 6, 80, kw("tskey-")},
	{"grafana-cloud-api-token", SeverityHigh, `\b(glc_[A-Za-z0-9+/]{32,400}={0,2})` + glEnd, 3, 4, 410, kw("glc_")},
	{"figma-pat", SeverityHigh, `\b(figd_[\w-]{40,})` + glEnd, 3, 5, 60, kw("figd_")},
	{"pulumi-api-token", SeverityHigh, `\b(pul-[a-f0-9]{40})` + glEnd, 3, 4, 42, kw("pul-")},
	{"onepassword-service-account-token", SeverityCritical, `\b(ops_eyJ[a-zA-Z0-9+/]{250,}={0,3})` + glEnd, 4, 4, 1200, kw("ops_eyj")},
	{"sentry-org-token", SeverityHigh, `\b(sntrys_eyJ[a-zA-Z0-9=_+/-]{100,})` + glEnd, 4, 7, 400, kw("sntrys_eyj")},
	{"sentry-user-token", SeverityHigh, `\b(sntryu_[a-f0-9]{64})` + glEnd, 3.5, 7, 66, kw("sntryu_")},
	{"hashicorp-vault-batch-token", SeverityHigh, `\b(hvb\.[\w-]{138,300})` + glEnd, 4, 4, 304, kw("hvb.")},
	{"new-relic-user-api-key", SeverityHigh, `\b(NRAK-[a-zA-Z0-9]{27})` + glEnd, 3, 5, 29, kw("nrak-")},
	{"new-relic-insert-key", SeverityHigh, `\b(NRII-[a-zA-Z0-9_-]{32})` + glEnd, 3, 5, 34, kw("nrii-")},
	{"postman-api-token", SeverityHigh, `\b(PMAK-(?i)[a-f0-9]{24}-[a-f0-9]{34})` + glEnd, 3, 5, 61, kw("pmak-")},
	{"adafruit-io-key", SeverityMedium, `\b(aio_[a-zA-Z0-9]{28})` + glEnd, 3, 4, 30, kw("aio_")},
	// AI providers.
	{"groq-api-key", SeverityHigh, `\b(gsk_[a-zA-Z0-9]{52})` + glEnd, 3.5, 4, 54, kw("gsk_")},
	{"xai-api-key", SeverityHigh, `\b(xai-[a-zA-Z0-9]{70,90})` + glEnd, 3.5, 4, 92, kw("xai-")},
	{"openrouter-api-key", SeverityHigh, `\b(sk-or-v1-[a-f0-9]{64})` + glEnd, 3, 9, 66, kw("sk-or-v1-")},
	{"replicate-api-token", SeverityHigh, `\b(r8_[a-zA-Z0-9]{37})` + glEnd, 3.5, 3, 40, kw("r8_")},
	{"fireworks-api-key", SeverityHigh, `\b(fw_[a-zA-Z0-9]{24})` + glEnd, 3.5, 3, 26, kw("fw_")},
	{"pinecone-api-key", SeverityHigh, `\b(pcsk_[a-zA-Z0-9]{5}_[a-zA-Z0-9]{40,80})` + glEnd, 3.5, 5, 90, kw("pcsk_")},
	{"langsmith-api-key", SeverityHigh, `\b(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})` + glEnd, 3, 5, 50, kw("lsv2_")},
	{"langfuse-secret-key", SeverityHigh, `\b(sk-lf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})` + glEnd, 3, 6, 40, kw("sk-lf-")},
	{"huggingface-organization-api-token", SeverityHigh, `\b(api_org_(?i:[a-z]{34}))` + glEnd, 2, 8, 36, kw("api_org_")},
	{"anyscale-api-key", SeverityHigh, `\b(esecret_[a-zA-Z0-9]{26,})` + glEnd, 3, 8, 40, kw("esecret_")},
	// Payments and commerce.
	{"stripe-webhook-secret", SeverityHigh, `\b(whsec_[a-zA-Z0-9+/]{32,})` + glEnd, 3.5, 6, 70, kw("whsec_")},
	{"square-access-token", SeverityHigh, `\b((?:EAAA|sq0atp-)[\w-]{22,60})` + glEnd, 3, 7, 62, kw("eaaa", "sq0atp-")},
	{"square-secret", SeverityHigh, `\b(sq0csp-[\w-]{43})` + glEnd, 3, 7, 45, kw("sq0csp-")},
	{"braintree-access-token", SeverityCritical, `\b(access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32})`, 3, 24, 52, kw("access_token$production$")},
	{"shippo-api-token", SeverityHigh, `\b(shippo_(?:live|test)_[a-fA-F0-9]{40})` + glEnd, 3, 12, 42, kw("shippo_live_", "shippo_test_")},
	{"easypost-api-token", SeverityHigh, `\b(EZ[AT]K(?i)[a-z0-9]{54})` + glEnd, 3, 4, 56, kw("ezak", "eztk")},
	{"flutterwave-secret-key", SeverityHigh, `\b(FLWSECK(?:_TEST)?-(?i)[a-h0-9]{32}-X)`, 3, 13, 36, kw("flwseck")},
	{"razorpay-key", SeverityHigh, `\b(rzp_live_[a-zA-Z0-9]{14,})` + glEnd, 3, 9, 30, kw("rzp_live_")},
	{"gocardless-api-token", SeverityHigh, `\b(live_(?i)[a-z0-9\-_=]{40})` + glEnd, 3.5, 5, 42, kw("live_")},
	{"shopify-shared-secret", SeverityHigh, `\b(shpss_[a-fA-F0-9]{32})`, 2, 6, 34, kw("shpss_")},
	{"shopify-custom-access-token", SeverityHigh, `\b(shpca_[a-fA-F0-9]{32})`, 2, 6, 34, kw("shpca_")},
	{"shopify-private-app-access-token", SeverityHigh, `\b(shppa_[a-fA-F0-9]{32})`, 2, 6, 34, kw("shppa_")},
	// Messaging, mail and SaaS.
	{"sendinblue-api-token", SeverityHigh, `\b(xkeysib-[a-f0-9]{64}-(?i)[a-z0-9]{16})` + glEnd, 3, 8, 90, kw("xkeysib-")},
	{"mailgun-private-api-token", SeverityHigh, `\b(key-[a-f0-9]{32})` + glEnd, 3, 4, 34, kw("key-")},
	{"mailchimp-api-key", SeverityHigh, `\b([a-f0-9]{32}-us\d{1,2})` + glEnd, 3, 40, 4, kw("-us")},
	{"telegram-bot-api-token", SeverityHigh, `\b([0-9]{8,10}:AA[0-9A-Za-z_-]{33})` + glEnd, 3, 14, 36, kw(":aa")},
	{"contentful-delivery-api-token", SeverityHigh, `\b(CFPAT-[a-zA-Z0-9_-]{43})` + glEnd, 3, 6, 45, kw("cfpat-")},
	{"hubspot-private-app-token", SeverityHigh, `\b(pat-(?:na|eu)1-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})` + glEnd, 3, 8, 40, kw("pat-na1-", "pat-eu1-")},
	{"mapbox-secret-token", SeverityHigh, `\b(sk\.eyJ[a-zA-Z0-9]{20,}\.[a-zA-Z0-9_-]{20,})` + glEnd, 3.5, 6, 200, kw("sk.eyj")},
	{"intra42-client-secret", SeverityHigh, `\b(s-s4t2(?:ud|af)-[a-f0-9]{64})` + glEnd, 3, 8, 66, kw("s-s4t2ud-", "s-s4t2af-")},
	{"yandex-api-key", SeverityHigh, `\b(AQVN[A-Za-z0-9_\-]{35,38})` + glEnd, 3.5, 4, 40, kw("aqvn")},
	{"yandex-access-token", SeverityHigh, `\b(y[0-3]_[-_A-Za-z0-9]{55,60})` + glEnd, 3.5, 3, 62, kw("y0_", "y1_", "y2_", "y3_")},
	// Cloud providers.
	{"alibaba-access-key-id", SeverityHigh, `\b(LTAI(?i)[a-z0-9]{20})` + glEnd, 3, 4, 22, kw("ltai")},
	{"tencent-secret-id", SeverityHigh, `\b(AKID[a-zA-Z0-9]{32})` + glEnd, 3.5, 4, 34, kw("akid")},
	{"gcp-oauth-client-secret", SeverityHigh, `\b(GOCSPX-[\w-]{28})` + glEnd, 3, 7, 30, kw("gocspx-")},
	{"gcp-oauth-access-token", SeverityHigh, `\b(ya29\.[\w-]{40,})` + glEnd, 3.5, 5, 260, kw("ya29.")},
	{"digitalocean-access-token", SeverityHigh, `\b(doo_v1_[a-f0-9]{64})` + glEnd, 3, 7, 66, kw("doo_v1_")},
	{"digitalocean-refresh-token", SeverityHigh, `\b(dor_v1_[a-f0-9]{64})` + glEnd, 3, 7, 66, kw("dor_v1_")},
	{"azure-storage-account-key", SeverityCritical, `(?i)\baccountkey=([a-z0-9+/]{86}==)`, 4, 12, 90, kw("accountkey=")},
	{"azure-sas-token", SeverityHigh, `\b(sv=20\d\d-\d\d-\d\d&[^\s"']{0,200}sig=[A-Za-z0-9%+/]{40,}={0,2})`, 3, 8, 320, kw("sv=20")},
	// Keys of other kinds.
	{"putty-private-key", SeverityCritical, `(PuTTY-User-Key-File-\d: [\s\S]{20,600}?Private-Lines: \d+\s+[A-Za-z0-9+/=\s]{64,})`, 0, 24, 4096, kw("putty-user-key-file-")},
	{"connection-string-password", SeverityHigh, `(?i)(?:server|data source|host|hostname|address)=[^;"'\n]{2,100};[^"'\n]{0,200}?\b(?:password|pwd)=([^;"'\s]{6,128})`, 3, 320, 140, kw("password=", "pwd=")},
}

// bearerRule finds tokens after "Bearer" in headers and code, whatever
// their vendor.
var bearerRule = vendorRule{"bearer-token", SeverityHigh, `(?i)\bbearer\s+([A-Za-z0-9_\-\.=+/~$]{24,512})` + glEnd, 3.5, 6, 520, kw("bearer ")}

func vendorSecretRules() []*regexRule {
	out := make([]*regexRule, 0, len(vendorRules)+1)
	for _, v := range append(vendorRules, bearerRule) {
		r := secretRule(v.id, v.sev, v.re, v.entropy, v.before, v.after, v.kws...)
		if v.id == "bearer-token" || v.id == "connection-string-password" {
			r.conf = 0.8
		}
		out = append(out, r)
	}
	return out
}

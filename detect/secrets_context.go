package detect

import "strings"

// Provider keys without a recognisable prefix: a value assigned to a name
// that mentions the provider and a credential word ("DATADOG_API_KEY=…",
// "algolia: { adminKey: '…' }"), in the manner of gitleaks' many
// "<provider>-api-token" rules. One expression per provider family would
// cost a pass each; instead the provider name is the keyword and one shared
// expression reads the assignment, and the finding carries the provider's
// own rule id.

// contextProviders maps a provider's name as written in configuration to
// its rule id (without the "secret." prefix).
var contextProviders = map[string]string{
	"datadog": "datadog-access-token", "algolia": "algolia-api-key", "heroku": "heroku-api-key", "twilio": "twilio-api-key",
	"facebook": "facebook-secret", "twitter": "twitter-api-secret", "dropbox": "dropbox-api-token", "snyk": "snyk-api-token",
	"sumologic": "sumologic-access-token", "pagerduty": "pagerduty-api-key", "mailjet": "mailjet-api-key", "sendbird": "sendbird-access-token",
	"segment": "segment-write-key", "mixpanel": "mixpanel-api-secret", "amplitude": "amplitude-api-key", "intercom": "intercom-api-key",
	"zendesk": "zendesk-secret-key", "freshdesk": "freshdesk-api-key", "cloudflare": "cloudflare-api-key", "fastly": "fastly-api-token",
	"netlify": "netlify-access-token", "vercel": "vercel-api-token", "okta": "okta-access-token", "auth0": "auth0-client-secret",
	"contentful": "contentful-api-key", "launchdarkly": "launchdarkly-access-token", "sentry": "sentry-access-token",
	"newrelic": "new-relic-api-key", "new_relic": "new-relic-api-key", "bugsnag": "bugsnag-api-key", "rollbar": "rollbar-access-token",
	"honeycomb": "honeycomb-api-key", "lightstep": "lightstep-access-token", "circleci": "circleci-api-token", "travis": "travisci-access-token",
	"codecov": "codecov-access-token", "coveralls": "coveralls-repo-token", "sonarcloud": "sonarcloud-token", "snowflake": "snowflake-password",
	"weaviate": "weaviate-api-key", "cohere": "cohere-api-token", "mistral": "mistral-api-key", "together": "together-api-key",
	"deepseek": "deepseek-api-key", "voyage": "voyage-api-key", "jina": "jina-api-key", "assemblyai": "assemblyai-api-key",
	"deepgram": "deepgram-api-key", "elevenlabs": "elevenlabs-api-key", "stability": "stability-api-key", "runway": "runway-api-key",
	"azure_openai": "azure-openai-api-key", "azureopenai": "azure-openai-api-key", "openai": "openai-api-key-assigned",
	"anthropic": "anthropic-api-key-assigned", "gemini": "gemini-api-key", "groq": "groq-api-key-assigned", "perplexity": "perplexity-api-key-assigned",
	"mapbox": "mapbox-api-token", "bitbucket": "bitbucket-client-secret", "beamer": "beamer-api-token", "bittrex": "bittrex-secret-key",
	"coinbase": "coinbase-access-token", "kraken": "kraken-access-token", "kucoin": "kucoin-secret-key", "binance": "binance-secret-key",
	"plaid": "plaid-secret-key", "paypal": "paypal-client-secret", "braintree": "braintree-private-key", "adyen": "adyen-api-key",
	"mollie": "mollie-api-key", "paddle": "paddle-api-key", "lemonsqueezy": "lemonsqueezy-api-key", "etsy": "etsy-access-token",
	"hubspot": "hubspot-api-key", "salesforce": "salesforce-client-secret", "pipedrive": "pipedrive-api-token", "airtable": "airtable-api-key",
	"asana": "asana-client-secret", "trello": "trello-access-token", "jira": "jira-api-token", "confluence": "confluence-api-token",
	"clickup": "clickup-api-key", "monday": "monday-api-token", "miro": "miro-access-token", "gitter": "gitter-access-token",
	"discord": "discord-client-secret", "telegram": "telegram-api-token", "mattermost": "mattermost-access-token", "zoom": "zoom-client-secret",
	"nexmo": "vonage-api-secret", "vonage": "vonage-api-secret", "messagebird": "messagebird-api-token", "plivo": "plivo-auth-token",
	"sinch": "sinch-api-token", "mailgun": "mailgun-api-key", "mandrill": "mandrill-api-key", "postmark": "postmark-server-token",
	"sparkpost": "sparkpost-api-key", "resend": "resend-api-key", "loops": "loops-api-key", "kubernetes": "kubernetes-token",
	"docker": "docker-password", "quay": "quay-robot-token", "harbor": "harbor-secret", "artifactory": "artifactory-api-key",
	"jfrog": "jfrog-api-key", "nexus": "nexus-password", "vault": "vault-token", "consul": "consul-acl-token", "nomad": "nomad-acl-token",
	"linode": "linode-api-token", "vultr": "vultr-api-key", "hetzner": "hetzner-api-token", "scaleway": "scaleway-secret-key",
	"ovh": "ovh-application-secret", "backblaze": "backblaze-application-key", "wasabi": "wasabi-secret-key", "minio": "minio-secret-key",
	"firebase": "firebase-api-key", "supabase": "supabase-service-key", "neon": "neon-api-key", "upstash": "upstash-token",
	"mongodb": "mongodb-atlas-key", "redis": "redis-password", "elastic": "elastic-api-key", "algoliasearch": "algolia-api-key",
	"meilisearch": "meilisearch-master-key", "typesense": "typesense-api-key", "pinecone": "pinecone-api-key-assigned",
	"qdrant": "qdrant-api-key", "langchain": "langchain-api-key", "langsmith": "langsmith-api-key-assigned", "wandb": "wandb-api-key",
	"comet": "comet-api-key", "neptune": "neptune-api-token", "huggingface": "huggingface-token-assigned", "replicate": "replicate-api-token-assigned",
}

// contextCredWords are the credential words the assigned name must hold
// besides the provider.
var contextCredWords = []string{"key", "token", "secret", "password", "passwd", "pwd", "pat", "auth", "credential"}

// contextSecrets finds "<provider>…<credential word>… = <value>".
func (c *scanCtx) contextSecrets() {
	rt := rules()
	if !c.mayHitMask(&rt.providerMask) {
		return
	}
	t := c.t
	for _, h := range c.hits {
		id, ok := rt.providerIDs[h.id]
		if !ok {
			continue
		}
		ns := int(h.end) - len(rt.words[h.id])
		if ns > 0 && isAlnum(t[ns-1]) && !isUpper(t[ns]) {
			continue // inside a longer word ("cohered", "segmentation")
		}
		// The rest of the name: identifier bytes and dots, up to 40.
		ne := int(h.end)
		for k := 0; ne < len(t) && k < 40 && (isNameByte(t[ne]) || t[ne] == '"' && k == 0); k++ {
			ne++
		}
		name := lowerString(t[ns:ne])
		hasCred := false
		for _, w := range contextCredWords {
			if strings.Contains(name, w) {
				hasCred = true
				break
			}
		}
		if !hasCred {
			continue
		}
		vs, ve, ok := assignedValue(t, ne)
		if !ok {
			continue
		}
		v := t[vs:ve]
		if len(v) < 16 || !contextValueOK(v) || c.covered(CategorySecret, vs, ve) {
			continue
		}
		c.emit(CategorySecret, "secret."+id, SeverityHigh, 0.8, vs, ve, c.redact(v))
	}
}

// assignedValue reads "<op> <value>" after a name ending at p: the
// operator (=, :, :=, =>), optional quotes and spaces, and a value of
// token bytes; ok false when there is none.
func assignedValue(t string, p int) (vs, ve int, ok bool) {
	for k := 0; p < len(t) && k < 3 && (t[p] == ' ' || t[p] == '\t' || t[p] == '"' || t[p] == '\''); k++ {
		p++
	}
	switch {
	case strings.HasPrefix(t[p:], ":="), strings.HasPrefix(t[p:], "=>"):
		p += 2
	case p < len(t) && (t[p] == '=' || t[p] == ':'):
		p++
	default:
		return 0, 0, false
	}
	for k := 0; p < len(t) && k < 5 && (t[p] == ' ' || t[p] == '\t' || t[p] == '"' || t[p] == '\'' || t[p] == '`'); k++ {
		p++
	}
	vs = p
	for p < len(t) && p-vs <= 128 && isValueByte(t[p]) {
		p++
	}
	ve = p
	for ve > vs && (t[ve-1] == '.' || t[ve-1] == '-') {
		ve--
	}
	if ve-vs > 128 || ve < len(t) && !strings.ContainsRune("\"'` \t\n\r;,})]\\&", rune(t[ve])) {
		return 0, 0, false
	}
	return vs, ve, true
}

// contextValueOK is genericValueOK with a lower entropy floor: next to the
// provider's name a hex key (at most 4 bits a character) is still a key.
func contextValueOK(v string) bool {
	if shannon(v) < 3.0 || isPlaceholder(v) {
		return false
	}
	if shannon(v) >= 3.5 {
		return genericValueOK(v)
	}
	hex := true
	for i := 0; i < len(v); i++ {
		if !isHex(v[i]) {
			hex = false
			break
		}
	}
	return hex && len(v) >= 24 && genericValueOK2(v)
}

// genericValueOK2 is genericValueOK without its entropy floor.
func genericValueOK2(v string) bool {
	var letter, digit bool
	for i := 0; i < len(v); i++ {
		switch {
		case isDigit(v[i]):
			digit = true
		case isAlpha(v[i]):
			letter = true
		}
	}
	return letter && digit
}

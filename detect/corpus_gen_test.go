package detect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus/gen_*.jsonl")

// generate runs every generator of the corpus from the seed (s1, s2).
func generate(s1, s2 uint64) *gen {
	g := &gen{rnd: newRnd(s1, s2), files: map[string][]sample{}}
	g.email()
	g.phone()
	g.card()
	g.iban()
	g.ssn()
	g.ip()
	g.wallet()
	g.secret()
	g.leakage()
	g.consumption()
	return g
}

// TestGenerateCorpus writes the generated part of the evaluation corpus
// (testdata/corpus/gen_*.jsonl) from a fixed seed. Run with -update after
// changing it; hand-written samples live in testdata/corpus/hand_*.jsonl.
func TestGenerateCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/corpus/gen_*.jsonl")
	}
	g := generate(42, 2025)
	for name, ss := range g.files {
		writeJSONL(t, filepath.Join("testdata", "corpus", "gen_"+name+".jsonl"), ss)
	}
}

type gen struct {
	rnd
	files map[string][]sample
	n     int
}

func (g *gen) add(file, family, kind, text, span string, expect ...string) *sample {
	g.n++
	if expect == nil {
		expect = []string{}
	}
	s := sample{ID: fmt.Sprintf("%s-%s-%03d", family, kind[:3], len(g.files[file])+1), Family: family, Kind: kind,
		Text: text, Expect: expect, Span: span}
	g.files[file] = append(g.files[file], s)
	return &g.files[file][len(g.files[file])-1]
}

func (g *gen) pos(file, family, text, span string) *sample {
	return g.add(file, family, "positive", text, span, family)
}

func (g *gen) neg(file, family, text string, expect ...string) *sample {
	return g.add(file, family, "hard_negative", text, "", expect...)
}

// ---- e-mail ----

func (g *gen) email() {
	first := []string{"john", "maria", "wei", "olga", "ahmed", "sofia", "liam", "priya", "kenji", "fatima", "lucas", "emma"}
	last := []string{"smith", "garcia", "chen", "ivanova", "hassan", "rossi", "murphy", "patel", "tanaka", "khan", "silva", "mueller"}
	domains := []string{"gmail.com", "outlook.com", "proton.me", "yahoo.co.jp", "acme-logistics.io", "uni-heidelberg.de",
		"ox.ac.uk", "fastmail.fm", "company.org.br", "mail.ru", "icloud.com", "hey.com"}
	tmpl := []string{
		"Please send the invoice to %s before Friday.",
		"my email is %s, thanks",
		"Contact: %s",
		"cc %s on the thread please",
		`{"customer": {"name": "X", "email": "%s"}}`,
		"From: Jane Roe <%s>\nSubject: refund",
		"You can reach our account manager at %s or via the portal.",
		"The user %s reported the crash on login.",
		"EMAIL=%s",
		"Write back to %s if anything is unclear.",
	}
	for i := 0; i < 44; i++ {
		f, l := g.pick(first...), g.pick(last...)
		local := g.pick(f+"."+l, f+l, f[:1]+l, f+"_"+l+g.digits(2), f+"+news", strings.ToUpper(f)+"."+l)
		e := local + "@" + g.pick(domains...)
		g.pos("pii", "email", fmt.Sprintf(tmpl[i%len(tmpl)], e), e)
	}
	negs := []string{
		"Clone it with git clone git@github.com:cylestio/perimeter.git and run make.",
		"Use the retina asset logo@2x.png for high-DPI screens and icon@3x.webp on iOS.",
		"Install the typings: npm i -D @types/node @types/jest",
		"In Flask you register routes with @app.route('/health') and decorators like @staticmethod.",
		"Pin the dependency as lodash@4.17.21 and react@18.2.0 in package.json.",
		"Connect to user@localhost for the local test database.",
		"For example, write to jane.doe@example.com in the docs.",
		"Ping @alice and @bob on Slack about the release.",
		"docker pull nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
		"The @ symbol separates the local part from the domain in an address.",
		"Use foo@bar as the test username (it has no domain).",
		"ssh admin@10.0.0.12 then run the migration script.",
		"Run `npx create-react-app@latest my-app` to scaffold the project.",
		"Mention the handle @perimeter_dev in the announcement tweet.",
		"Set git config user.email to build-bot@ci.invalid in the pipeline.",
		"The Python matrix operator a @ b multiplies two arrays.",
		"Sample address from the RFC: someone@test.com is a placeholder.",
		"Emails look like name@domain.tld; validate them with a library.",
		"pip install requests==2.31.0 and then import requests.",
		"Scoped packages such as @angular/core@17.1.0 must be upgraded together.",
		"Use SSH URLs of the form ssh://git@gitlab.com/group/project.git",
		"CSS: @media (max-width: 600px) { .nav { display: none } }",
		"Java annotations like @Override and @Deprecated are fine here.",
		"In the template write {{ user@host }} literally, it is not an address.",
		"The SCSS file uses @import 'variables'; and @mixin flex-center.",
		"Docs: reach the sample tenant at admin@acme.com in the tutorial.",
		"Vue event shorthand: @click=\"save\" and @submit.prevent.",
		"The DNS record is _dmarc.perimeter.dev and the selector s1._domainkey.",
		"Our meeting is @ 3pm in room 4.",
		"Go module path: github.com/cylestio/perimeter/detect@v0.3.1",
		"Call the REST endpoint /v1/users/@me to get the current profile.",
		"For the unit test, use bob@mail.com which the fixture creates.",
		"Log line: 2024-05-01T10:00:00Z worker@node-3 started job 42",
		"LDAP bind DN is cn=admin,dc=example,dc=org for the staging directory.",
		"Use the alias main@{upstream} to refer to the tracked branch.",
		"git log main@{2.days.ago} shows what changed since Tuesday.",
		"Email validation regex: ^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$ covers most cases.",
		"Kafka topic orders@v2 is consumed by the billing service.",
		"Sentry DSN format is https://<key>@o0.ingest.sentry.io/<project>.",
		"Send feedback through the form, not by e-mail.",
		"The file was saved as report@final.docx on the share.",
		"Twitter users like @nasa and @github post updates daily.",
	}
	for _, n := range negs {
		g.neg("pii", "email", n)
	}
}

// ---- phone ----

func (g *gen) nanp() (string, string, string) {
	a := fmt.Sprintf("%d%s", 2+g.r.IntN(8), g.digits(2))
	e := fmt.Sprintf("%d%s", 2+g.r.IntN(8), g.digits(2))
	if e == "555" {
		e = "556"
	}
	return a, e, g.digits(4)
}

func (g *gen) phone() {
	ctx := []string{"Call me at %s tomorrow.", "My cell is %s.", "Phone: %s", "You can reach the driver on %s.",
		"WhatsApp %s if the parcel is late", "tel %s (office)", "Please text me at %s", "Customer callback number: %s"}
	for i := 0; i < 24; i++ {
		a, e, l := g.nanp()
		n := g.pick("("+a+") "+e+"-"+l, a+"-"+e+"-"+l, a+"."+e+"."+l, "+1 "+a+" "+e+" "+l, "+1-"+a+"-"+e+"-"+l, "1 "+a+" "+e+" "+l)
		if strings.HasPrefix(n, "1 ") {
			n = "+" + n
		}
		g.pos("pii", "phone", fmt.Sprintf(ctx[i%len(ctx)], n), n[len(n)-4:])
	}
	intl := []string{"+44 20 7946 0958", "+44 7911 123456", "+49 30 12345678", "+49 151 23456789", "+33 1 42 68 53 00",
		"+33 6 12 34 56 78", "+91 98765 43210", "+61 2 9374 4000", "+81 3-1234-5678", "+34 612 345 678", "+39 06 6982 1234",
		"+55 11 91234-5678", "+86 138 0013 8000", "+27 21 123 4567", "+971 50 123 4567", "+31 20 794 0000",
		"+46 8 123 456 78", "+48 22 123 45 67"}
	for i, n := range intl {
		g.pos("pii", "phone", fmt.Sprintf(ctx[(i+3)%len(ctx)], n), n[len(n)-4:])
	}
	nat := []string{"call me on 07700 900123", "Telefon: 030 1234 5678", "mobile 0612 345 678", "phone 020 7946 0958"}
	for _, n := range nat {
		g.pos("pii", "phone", n+" after six.", n[len(n)-3:])
	}
	negs := []string{
		"The release is scheduled for 2024-01-15 and the freeze for 2024-01-08.",
		"Invoice dated 12/05/2023, due 01/04/2024.",
		"Order #4158675309 shipped yesterday.",
		"Upgrade macOS to version 10.15.7 before installing.",
		"ISBN 978-3-16-148410-0 is the second edition.",
		"The event timestamp was 1700000000 (epoch seconds).",
		"Build 2024.11.3 fixed the crash.",
		"It costs $1,299.00 or 1.299,00 EUR.",
		"Expose port 8080 and 8443 on the container.",
		"In the film they call 555-0123, the classic fake number.",
		"Support line in the demo script: (415) 555-0188.",
		"Request id 550e8400-e29b-41d4-a716-446655440000 failed.",
		"Commit 3f786850e387550fdab836ed7e6dc881de23001b reverted it.",
		"The job ran from 12:30:45 to 13:02:10.",
		"Population grew from 1990 to 2020 by 12 percent.",
		"Serial 4158 6753 0912 is printed on the back.",
		"Coordinates 37.7749, -122.4194 mark the office.",
		"ZIP code 94103-1234 covers the area.",
		"Room 1204 on floor 12, building 3.",
		"Tracking number 1Z999AA10123456784 is with UPS.",
		"The matrix is 1024 x 768 x 3 bytes.",
		"Ticket count: 2048 4096 8192 for the three tiers.",
		"Results: 98.6, 97.2, 99.1 and 100.0 percent.",
		"Kernel 6.1.0-18-amd64 is installed.",
		"Chapter 3, pages 120-145, exercises 1-10.",
		"The account balance moved from 10 000 to 12 500 units.",
		"Use the range 1000-1999 for internal ids.",
		"sha256 digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"Version string: 2.31.0-rc.1+build.20240101",
		"Math: 3.14159 26535 89793 are the first digits of pi.",
		"Order 4158 6753 09 was cancelled.",
		"Use fixture number 202-555-0147 in tests; it is reserved for fiction.",
		"The error code 0x80070005 means access denied.",
		"Lottery numbers 7 14 21 28 35 42 were drawn.",
		"Its dimensions are 210 x 297 mm (A4).",
		"The dataset has 1 234 567 rows and 89 columns.",
		"GPS week 2296 seconds 345600.",
		"Set the timeout to 30000 ms and retries to 5.",
		"SKU 400-123-4567 is out of stock.",
		"IBAN check digits are computed with mod 97-10.",
		"Call the function f(123, 456, 7890) with three args.",
		"Between 2019 and 2023 revenue went from 1.2 to 3.4 billion.",
	}
	for _, n := range negs {
		g.neg("pii", "phone", n)
	}
}

// ---- cards ----

func (g *gen) card() {
	ctx := []string{"My card number is %s, expiry 09/27.", "Visa: %s", "please charge card %s for the renewal",
		"cc# %s cvv on the back", "Payment details: %s", "I paid with %s yesterday but got no receipt.",
		"card_number=%s", "Use %s for the subscription"}
	brands := []struct {
		prefix string
		n      int
	}{{"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16}, {"2720", 16}, {"34", 15}, {"37", 15}, {"6011", 16}, {"65", 16}, {"4", 13}, {"3530", 16}, {"62", 16}}
	for i := 0; i < 45; i++ {
		b := brands[i%len(brands)]
		num := g.luhnComplete(b.prefix, b.n)
		f := num
		switch i % 3 {
		case 0:
			f = group4(num, " ")
		case 1:
			f = group4(num, "-")
		}
		if b.n == 15 && i%3 != 2 {
			f = num[:4] + " " + num[4:10] + " " + num[10:]
		}
		g.pos("pii", "credit_card", fmt.Sprintf(ctx[i%len(ctx)], f), f[len(f)-4:])
	}
	negs := []string{
		"Use the test card 4242 4242 4242 4242 with any future expiry in Stripe test mode.",
		"Test with 4111 1111 1111 1111 and CVC 123.",
		"For Mastercard testing use 5555 5555 5555 4444.",
		"Amex test number: 3782 822463 10005.",
		"The order id 1234 5678 9012 3456 was duplicated.",
		"Reference 9876543210987654 is not found.",
		"IMEI 490154203237518 belongs to the lost phone.",
		"Tracking 9400 1000 0000 0000 0000 00 was delivered.",
		"Account 000123456789 has been closed.",
		"The long number 1234567890123456789012 overflows int64.",
		"Request id 550e8400-e29b-41d4-a716-446655440000.",
		"Your order number is 4556 7375 8689 9856 (keep it for reference).",
		"Transaction id 6011 0009 9013 9424 is in the docs as an example.",
		"Stripe docs list 4000 0566 5566 5556 as a debit test card.",
		"The checksum 7992739871 is the textbook Luhn example.",
		"Serial number 3714 4963 5398 431 printed on the label of the demo unit (test value).",
		"Numbers 1111 2222 3333 4444 are a placeholder in the form.",
		"Unix time 1712345678901 in milliseconds.",
		"Build 20240101123456 was promoted.",
		"GTIN 00012345600012 on the pallet.",
		"Card layout: 16 digits in 4 groups of 4, e.g. XXXX XXXX XXXX XXXX.",
		"Invoice 4929 1234 5678 9012 is overdue.",
		"MAC address 00:1A:2B:3C:4D:5E on eth0.",
		"Git SHA a94a8fe5ccb19ba61c4c0873d391e987982fbbd3.",
		"Coordinates 40.7128, -74.0060.",
		"Loyalty member id 6062 8261 2345 678.",
		"Gift card code 1234-5678-9012 has 12 digits.",
		"It happened in 1999, 2004, 2011 and 2019.",
		"The test suite uses 5105 1051 0510 5100 for declined payments.",
		"Dinner for 4 at 7:30, table 12.",
		"Bank routing number 021000021 and account 1234567890.",
		"The range 4000 0000 0000 0002 triggers a decline in sandbox mode.",
		"EAN 4006381333931 is a pen.",
		"Hash bucket 8 of 16, shard 3 of 4.",
		"Version 4.19.2 requires node 18.",
		"Tax id 12-3456789 is on the W-9.",
		"The UUID is 123e4567-e89b-12d3-a456-426614174000.",
		"Parcel 1234 5678 9012 3456 7890 arrived.",
		"The PIN is four digits; never share it.",
		"Use Discover test card 6011 1111 1111 1117 in the sandbox.",
		"JCB test: 3566 0020 2036 0505.",
	}
	for _, n := range negs {
		g.neg("pii", "credit_card", n)
	}
	g.neg("pii", "credit_card", "Phone 415-867-5309 and zip 94103.", "phone").Note = "a phone number, not a card"
}

// ---- IBAN ----

func (g *gen) iban() {
	const up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	mk := []func() string{
		func() string { return ibanWithCheck("DE", g.digits(18)) },
		func() string { return ibanWithCheck("GB", g.chars(4, up)+g.digits(14)) },
		func() string { return ibanWithCheck("FR", g.digits(10)+g.chars(11, "0123456789ABCDEFGHJ")+g.digits(2)) },
		func() string { return ibanWithCheck("NL", g.chars(4, up)+g.digits(10)) },
		func() string { return ibanWithCheck("ES", g.digits(20)) },
		func() string { return ibanWithCheck("IT", g.chars(1, up)+g.digits(22)) },
		func() string { return ibanWithCheck("CH", g.digits(17)) },
		func() string { return ibanWithCheck("BE", g.digits(12)) },
		func() string { return ibanWithCheck("PL", g.digits(24)) },
		func() string { return ibanWithCheck("AT", g.digits(16)) },
	}
	ctx := []string{"Please wire the deposit to IBAN %s.", "Bank details: %s (BIC on request)", "IBAN: %s",
		"Refund to my account %s please", "Kontonummer %s, Empfänger M. Weber", "Transfer to %s by Monday."}
	for i := 0; i < 44; i++ {
		ib := mk[i%len(mk)]()
		f := ib
		if i%2 == 0 {
			f = group4(ib, " ")
		}
		g.pos("pii", "iban", fmt.Sprintf(ctx[i%len(ctx)], f), f[:4])
	}
	negs := []string{
		"The standard example IBAN DE89 3704 0044 0532 0130 00 is in every tutorial.",
		"Example: GB82 WEST 1234 5698 7654 32 (from the ECBS spec).",
		"Wrong check digits: DE12 3456 7890 1234 5678 90 must be rejected.",
		"Product code AB12 3456 7890 in the catalogue.",
		"The BIC DEUTDEFF500 identifies the branch.",
		"Country code DE and postal code 10115.",
		"VAT id DE123456789 on the invoice.",
		"FR 75008 Paris is the address.",
		"The part number GB29XYZ is discontinued.",
		"Flight LH1234 from FRA to JFK.",
		"Use NL91ABNA0417164300 as the documented sample in the API reference.",
		"Registration CH-123.4.567.890-1 in the commercial register.",
		"Seat 12A, gate B22, boarding 14:35.",
		"License plate B-MW 1234 was towed.",
		"ES91 2100 0418 4502 0005 1332 is the demo account in the bank's docs.",
		"The ISO 13616 standard defines the IBAN format.",
		"Model number IT60X0542811 is a partial string.",
		"Order GB123456789012 shipped.",
		"Chemical formula C6H12O6 and H2SO4.",
		"Screen resolution 1920x1080 at 60Hz.",
		"Ticket DE4455 is assigned to ops.",
		"Version AT2024.1 released.",
		"SWIFT code BNPAFRPP and sort code 20-00-00.",
		"The test vector BE68 5390 0754 7034 is from the specification.",
		"Container id PL00000000000000000000000000 is a dummy.",
		"Code DE00 0000 0000 0000 0000 00 is all zeros.",
		"ISIN US0378331005 identifies the stock.",
		"Postcode SW1A 1AA is in London.",
		"Room FR12 in building 3.",
		"The hash DE44AAF0E4B1 is truncated.",
		"Reference NL00XXXX0000000000 in the template.",
		"Route GB22 toward the coast.",
		"Kubernetes node ES24-node-3 is cordoned.",
		"AT61 1904 3002 3457 3201 appears in the Austrian sample docs.",
		"Account identifier CH93 0076 2011 6238 5295 7 is the Swiss sample.",
		"Use IBAN format checks, not regexes alone.",
		"EAN DE123 456 is incomplete.",
		"Credit note GB-2024-0001 attached.",
		"PL 61 109 is a page reference.",
		"The code IT60 was mentioned without digits.",
		"Passport number C01X00T47 (sample).",
		"Matrix row DE 1 2 3 4.",
	}
	for _, n := range negs {
		g.neg("pii", "iban", n)
	}
}

// ---- SSN ----

func (g *gen) ssn() {
	mk := func() (string, string, string) {
		a := 1 + g.r.IntN(665)
		if a == 78 || a == 219 {
			a++
		}
		return fmt.Sprintf("%03d", a), fmt.Sprintf("%02d", 1+g.r.IntN(99)), fmt.Sprintf("%04d", 1+g.r.IntN(9999))
	}
	ctx := []string{"My SSN is %s.", "Social security number: %s", "ssn=%s", "Applicant SSN %s, DOB 1984",
		"Here is the employee record: %s, hired 2019.", "Please verify %s for the tax form",
		"Taxpayer id (SSN) %s on the 1040", "The form lists %s under social security."}
	for i := 0; i < 44; i++ {
		a, b, c := mk()
		f := a + "-" + b + "-" + c
		if i%5 == 4 {
			f = a + b + c
		}
		text := fmt.Sprintf(ctx[i%len(ctx)], f)
		if i%5 == 4 && !strings.Contains(strings.ToLower(text), "ss") && !strings.Contains(strings.ToLower(text), "social") {
			text = "SSN " + text
		}
		g.pos("pii", "us_ssn", text, c)
	}
	negs := []string{
		"Invalid area: 000-12-3456 is never issued.",
		"Numbers starting with 666 like 666-45-6789 are not assigned.",
		"The 9xx range (e.g. 912-34-5678) is for ITINs, not SSNs.",
		"The famous Woolworth card number 078-05-1120 was used in ads.",
		"Use 123-45-6789 as the placeholder in the form.",
		"The deadline is 2023-04-15.",
		"Employee id 123456789 is in HR.",
		"Part PN 123-45-678 is on backorder.",
		"ZIP+4 code 94103-1234.",
		"Group 00 is invalid: 123-00-4567.",
		"Serial 0000 is invalid: 123-45-0000.",
		"The range 100-200-300 is not an SSN.",
		"Phone extension 555-12-34 in Europe.",
		"Date 12-31-2024 at noon.",
		"Version 1.22.333 released.",
		"Order 987-65-4321 is the sample in the docs.",
		"Product SKU 321-54-9876-XL.",
		"ISBN 0-306-40615-2.",
		"Latitude 45.12.3456 is malformed.",
		"Build 20240115 passed.",
		"Record 111-11-1111 is obviously fake.",
		"Routing 021000021.",
		"The score was 123 45 6789 in three rounds.",
		"Lot number 246-80-1357-B.",
		"The grid cell 12-34-5678A.",
		"Room 401-02-0003 in the tower.",
		"Timestamp 20240101 120000.",
		"Case number 2024-CV-00123.",
		"Hex 0x1234-5678.",
		"The UUID fragment 550e8400-e29b.",
		"Items 10, 20, 30 and 40.",
		"Invoice 219-09-9999 from the sample data.",
		"Coupon code 321-65-4987 expires soon.",
		"The account ref 543210987 is internal.",
		"Extension 23456 at the front desk.",
		"Set MAX=999999999 for unlimited.",
		"Pages 130-45-67 are missing.",
		"The ticket id is 408-92-1133 per the tracker.",
		"Flight times 10-15-2030 are wrong.",
		"Build id 987654321 deployed.",
		"A sample record: SSN 987-65-4320 (IRS advertising range).",
	}
	for _, n := range negs {
		g.neg("pii", "us_ssn", n)
	}
	g.neg("pii", "us_ssn", "Call 415-867-5309 for support.", "phone").Note = "3-3-4 is a phone number, not an SSN"
}

// ---- IP ----

func (g *gen) ip() {
	pub := func() string {
		for {
			a := 1 + g.r.IntN(222)
			if a == 10 || a == 127 || a == 100 || a == 169 || a == 172 || a == 192 || a == 198 || a == 203 {
				continue
			}
			return fmt.Sprintf("%d.%d.%d.%d", a, g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
		}
	}
	ctx := []string{"Login from IP %s was blocked.", "The client address %s sent 500 requests.", "ssh into %s and restart nginx",
		"X-Forwarded-For: %s", "Our server at %s is down.", "The attacker came from %s.", "Whitelist %s in the firewall",
		"User connected from %s at 10:42."}
	for i := 0; i < 34; i++ {
		ip := pub()
		g.pos("pii", "ip_address", fmt.Sprintf(ctx[i%len(ctx)], ip), ip)
	}
	v6 := []string{"2606:4700:4700::1111", "2a00:1450:4001:82a::200e", "2001:4860:4860::8888", "2a03:2880:f12f:83:face:b00c:0:25de",
		"2620:fe::fe", "2404:6800:4003:c00::64", "2a01:4f8:c17:b8f::2", "2600:1f18:24e6:b900:d1ba:9b8d:a3d5:1b0c",
		"2001:67c:2e8:22::c100:68b", "2a02:26f0:fd::5c7a:3a4b"}
	for i, ip := range v6 {
		g.pos("pii", "ip_address", fmt.Sprintf(ctx[(i+2)%len(ctx)], ip), ip)
	}
	negs := []string{
		"The router is at 192.168.1.1 and the NAS at 192.168.1.20.",
		"Bind to 127.0.0.1:8080 for local testing.",
		"Pods use 10.244.0.0/16 and the service 10.96.0.10.",
		"Docker's bridge is 172.17.0.1.",
		"Upgrade to version 1.2.3.4 of the agent.",
		"Chrome 120.0.6099.109 fixed the bug.",
		"Release v2.10.3.1 is available.",
		"The OID 1.3.6.1.4.1.311.21.7 identifies the template.",
		"Use 192.0.2.10 in documentation examples.",
		"The docs use 203.0.113.5 and 198.51.100.7.",
		"IPv6 docs prefix 2001:db8::1 is reserved.",
		"Loopback ::1 and link-local fe80::1 are local.",
		"MAC 00:1A:2B:3C:4D:5E on the switch.",
		"The meeting is at 10:30:00 UTC.",
		"C++ uses std::vector<int> and std::map::find.",
		"Ruby constants A::B::C are namespaced.",
		"Netmask 255.255.255.0 and gateway settings.",
		"Listen on 0.0.0.0 to accept all interfaces.",
		"See section 4.2.1.3 of the spec.",
		"Python 3.11.4.1 is not a real version.",
		"The firmware build 5.4.3.2 is old.",
		"CGNAT range 100.64.0.1 is carrier internal.",
		"Multicast 224.0.0.251 is mDNS.",
		"APIPA address 169.254.10.20 means DHCP failed.",
		"Unique local fd12:3456:789a::1 is private.",
		"The ratio 1.5.2.0 in the config is a version.",
		"Coordinates 48.8566.2.3522 are malformed.",
		"Time 12:34:56.789 logged.",
		"Label a:b:c:d in the YAML.",
		"Kubernetes version v1.28.3.4 is not GA.",
		"Benchmark addresses 198.18.0.1 are for testing.",
		"Use 172.31.255.254 in the VPC.",
		"Windows build 10.0.19045.3693.",
		"The npm package version 4.17.21.1 does not exist.",
		"IPv6 fe80::1ff:fe23:4567:890a is link-local.",
		"Score: 99.99.999.99 is invalid (octet above 255).",
		"The date 2024.01.15.1 tag.",
		"Timecode 01:02:03:04 in the video.",
		"IP 256.1.1.1 is invalid.",
		"Address 01.02.03.04 has leading zeros.",
		"The printer at 10.0.0.42 is jammed.",
		"Java 17.0.9.1 patch.",
	}
	for _, n := range negs {
		g.neg("pii", "ip_address", n)
	}
}

// ---- wallets ----

func b58Encode(b []byte) string {
	n := new(big.Int).SetBytes(b)
	var out []byte
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, big.NewInt(58), mod)
		out = append(out, b58Alphabet[mod.Int64()])
	}
	for _, x := range b {
		if x != 0 {
			break
		}
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func (g *gen) btcLegacy(ver byte) string {
	p := make([]byte, 21)
	p[0] = ver
	for i := 1; i < 21; i++ {
		p[i] = byte(g.r.IntN(256))
	}
	h1 := sha256.Sum256(p)
	h2 := sha256.Sum256(h1[:])
	return b58Encode(append(p, h2[:4]...))
}

func convertBits(data []byte, from, to uint) []byte {
	acc, bits := 0, uint(0)
	var out []byte
	maxv := (1 << to) - 1
	for _, v := range data {
		acc = acc<<from | int(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if bits > 0 {
		out = append(out, byte(acc<<(to-bits)&maxv))
	}
	return out
}

func (g *gen) bech32Addr(ver byte, n int) string {
	prog := make([]byte, n)
	for i := range prog {
		prog[i] = byte(g.r.IntN(256))
	}
	data := append([]byte{ver}, convertBits(prog, 8, 5)...)
	c := uint32(1)
	if ver > 0 {
		c = 0x2bc830a3
	}
	pm := bech32Polymod(append(append(bech32HRPExpand("bc"), data...), 0, 0, 0, 0, 0, 0)) ^ c
	for i := 0; i < 6; i++ {
		data = append(data, byte(pm>>(5*(5-i))&31))
	}
	var b strings.Builder
	b.WriteString("bc1")
	for _, d := range data {
		b.WriteByte(bech32Charset[d])
	}
	return b.String()
}

func (g *gen) ethAddr() string {
	raw := make([]byte, 20)
	for i := range raw {
		raw[i] = byte(g.r.IntN(256))
	}
	lower := hex.EncodeToString(raw)
	h := keccak256([]byte(lower))
	out := []byte(lower)
	for i := range out {
		nib := h[i/2]
		if i%2 == 0 {
			nib >>= 4
		}
		if out[i] >= 'a' && nib&0xf >= 8 {
			out[i] -= 32
		}
	}
	return "0x" + string(out)
}

func (g *gen) wallet() {
	ctx := []string{"Send the BTC to %s please.", "My wallet: %s", "Pay the invoice to %s", "deposit address %s",
		"Refund to %s when you can.", "The donation address is %s.", "withdraw to %s", "Address for the payout: %s"}
	for i := 0; i < 45; i++ {
		var a string
		switch i % 5 {
		case 0:
			a = g.btcLegacy(0)
		case 1:
			a = g.btcLegacy(5)
		case 2:
			a = g.bech32Addr(0, 20)
		case 3:
			a = g.bech32Addr(1, 32)
		case 4:
			a = g.ethAddr()
		}
		g.pos("pii", "crypto_wallet", fmt.Sprintf(ctx[i%len(ctx)], a), a)
	}
	negs := []string{
		"Bad checksum: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3 must be rejected.",
		"Commit hash 0x3f786850e387550fdab836ed7e6dc881de23001b in the log.",
		"Transaction 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 confirmed.",
		"The constant 0xDEADBEEF is a magic number.",
		"Bad EIP-55: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD fails the checksum.",
		"Invalid bech32 bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx.",
		"IPFS CID QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG points to the file.",
		"Git SHA a94a8fe5ccb19ba61c4c0873d391e987982fbbd3.",
		"The token id 12345678901234567890123456 is numeric.",
		"Hash 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz is truncated: 3J98t1WpEZ73CNmQviecrnyiWrnqRh.",
		"Base58 strings like 1111111111111111111114oLvT2 are burn addresses in docs.",
		"uuid 0x000000000000000000000000000000000000dEaD is the burn address in examples.",
		"Color #1A2B3C and 0x1A2B3C in hex.",
		"The key id 3Fa85f6457174562b3fc2c963f66afa6 is hex.",
		"Bitcoin addresses start with 1, 3 or bc1 and are 26 to 62 characters.",
		"Pointer 0x7ffee4b1c8a0 in the crash dump.",
		"Contract bytecode starts with 0x6080604052.",
		"Storage slot 0x0000000000000000000000000000000000000000000000000000000000000001.",
		"Base64 1QmFzZTY0IGlzIG5vdCBhIHdhbGxldA== is text.",
		"Object id 1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d is in the DB.",
		"The file 3dModelFinalVersionForPrintA.stl is ready.",
		"bc1 is the prefix of native segwit.",
		"Random text 1qazxswedcvfrtgbnhyujmkiolp is a keyboard walk.",
		"Docker image digest sha256:3f786850e387550fdab836ed7e6dc881de23001b0f0c7d2e1a2b3c4d5e6f7a8b.",
		"Session 0xabcdefabcdefabcdefabcdefabcdefabcdefabcd expired in the logs.",
		"The IV 0x0123456789abcdef0123456789abcdef01234567 is fixed in the test.",
		"Ticket with a broken checksum: 1HB5XMLmzFVj8ALj6mfBsbifRoD4miY36w.",
		"The short string 1A1zP1eP is not an address.",
		"Mixed: 0xAbCdEf0123456789aBcDeF0123456789AbCdEf01 has a random case.",
		"Our repo id 1234abcdEFGH5678ijklMNOP9012qrst is internal.",
		"Build 3a7bd3e2360a3d29eea436fcfb7e44c735d117c4 passed.",
		"Litecoin-style LTC1234 ticker.",
		"Bech32 data bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs is too short and wrong.",
		"MD5 d41d8cd98f00b204e9800998ecf8427e of the empty file.",
		"The docs show an address with a typo: 1BoatSLRHtKNngkdXEeobR76b53LETtpyX.",
		"JWT kid 3ba8d7e1f0c24b5c9a6e8d7f1c2b3a4d.",
		"0x in front of 40 hex chars without context: 0x52908400098527886e0f7030069857d2e4169ee7 hash.",
		"Address format: 0x followed by 40 hexadecimal characters.",
		"The S3 key 3kTMd5Xy7uVwZ2aBcDeFgHiJkLmNoPqRs is random.",
		"Segwit test vector BC1SW50QA3JX3S is invalid.",
		"1 BTC equals 100,000,000 satoshis.",
		"The checksum of 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy is wrong.",
	}
	for _, n := range negs {
		g.neg("pii", "crypto_wallet", n)
	}
}

// ---- secrets ----

func (g *gen) jwt() string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%s","iat":%d,"role":"admin"}`, g.digits(8), 1700000000+g.r.IntN(1e6))))
	return h + "." + p + "." + g.chars(43, alnumSet+"-_")
}

func (g *gen) secret() {
	b64 := alnumSet + "+/"
	mk := []struct {
		name string
		f    func() string
	}{
		{"github-pat", func() string { return "ghp_" + g.chars(36, alnumSet) }},
		{"github-oauth", func() string { return "gho_" + g.chars(36, alnumSet) }},
		{"github-fine", func() string { return "github_pat_" + g.chars(22, alnumSet) + "_" + g.chars(59, alnumSet) }},
		{"gitlab", func() string { return "glpat-" + g.chars(20, alnumSet+"-_") }},
		{"slack", func() string { return "xoxb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.chars(24, alnumSet) }},
		{"stripe", func() string { return "sk_live_" + g.chars(24, alnumSet) }},
		{"gcp", func() string { return "AIza" + g.chars(35, alnumSet+"-_") }},
		{"anthropic", func() string { return "sk-ant-api03-" + g.chars(93, alnumSet+"-_") + "AA" }},
		{"openai", func() string {
			return "sk-proj-" + g.chars(74, alnumSet+"-_") + "T3BlbkFJ" + g.chars(74, alnumSet+"-_")
		}},
		{"openai-unmarked", func() string { return "sk-proj-" + g.chars(48, alnumSet) }},
		{"aws", func() string { return "AKIA" + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") }},
		{"jwt", g.jwt},
		{"sendgrid", func() string { return "SG." + g.chars(22, alnumSet) + "." + g.chars(43, alnumSet) }},
		{"hf", func() string { return "hf_" + g.chars(34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") }},
		{"npm", func() string { return "npm_" + g.chars(36, alnumSet) }},
	}
	ctx := []string{"Here is my token %s, why does the API return 401?", "export TOKEN=%s", "config: { key: \"%s\" }",
		"I pasted %s into the settings page", "Authorization: Bearer %s", "the CI variable is set to %s now"}
	for i := 0; i < 30; i++ {
		m := mk[i%len(mk)]
		v := m.f()
		g.pos("secrets", "secret", fmt.Sprintf(ctx[i%len(ctx)], v), v)
	}
	for i := 0; i < 4; i++ {
		id := "AKIA" + g.chars(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
		sec := g.chars(40, b64)
		for !awsSecretShape(sec) {
			sec = g.chars(40, b64)
		}
		g.pos("secrets", "secret", fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, sec), sec)
	}
	for i := 0; i < 3; i++ {
		var body strings.Builder
		for l := 0; l < 8; l++ {
			body.WriteString(g.chars(64, b64) + "\n")
		}
		g.pos("secrets", "secret", "Key for the deploy box:\n-----BEGIN OPENSSH PRIVATE KEY-----\n"+body.String()+"-----END OPENSSH PRIVATE KEY-----\nthanks", "BEGIN OPENSSH PRIVATE KEY")
	}
	gen := []string{`api_key = "%s"`, `DB_PASSWORD=%s`, `"client_secret": "%s"`, `auth_token: %s`, `SECRET_KEY = '%s'`}
	for i := 0; i < 8; i++ {
		v := g.chars(28, alnumSet)
		for shannon(v) < 3.5 || !strings.ContainsAny(v, "0123456789") {
			v = g.chars(28, alnumSet)
		}
		g.pos("secrets", "secret", fmt.Sprintf(gen[i%len(gen)], v), v)
	}
	for i := 0; i < 3; i++ {
		pw := g.chars(16, alnumSet)
		g.pos("secrets", "secret", fmt.Sprintf("DATABASE_URL=postgres://app:%s@db.internal:5432/prod", pw), pw)
	}
	negs := []string{
		"Set ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAA in your shell.",
		"Your token looks like ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX (36 characters after the prefix).",
		"The AWS docs use AKIAIOSFODNN7EXAMPLE and wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.",
		"api_key = os.environ['OPENAI_API_KEY']",
		"token: ${{ secrets.GITHUB_TOKEN }}",
		"password: <your-password-here>",
		"Request id 550e8400-e29b-41d4-a716-446655440000 failed.",
		"commit 3f786850e387550fdab836ed7e6dc881de23001b (HEAD -> main)",
		"sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"max_tokens = 4096",
		"public_key = \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"",
		"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
		"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
		"Your key starts with sk-proj- and is shown only once.",
		"keyboard_shortcut = Ctrl+Shift+K",
		"tokenizer = cl100k_base",
		"auth_type: oauth2",
		"api_version = 2024-02-01",
		"password_min_length: 12",
		"The JWT header eyJhbGciOiJIUzI1NiJ9 decodes to {\"alg\":\"HS256\"}.",
		"Use a Bearer token in the Authorization header.",
		"The cache_key = user:42:profile:v3 is rebuilt hourly.",
		"secret_name: prod-db-credentials",
		"access_level = read_only_2024",
		"The token count was 18342 for this request.",
		"api_url = https://api.openai.com/v1/chat/completions",
		"SECRET_KEY = get_random_secret_key()",
		"password = input('Enter password: ')",
		"token = request.headers.get('Authorization')",
		"postgres://user:password@localhost:5432/mydb is the default local URL.",
		"redis://:${REDIS_PASSWORD}@redis:6379/0",
		"The session cookie is HttpOnly and Secure.",
		"Rotate your API keys every 90 days.",
		"Stripe keys look like sk_live_... and must stay server side.",
		"idempotency_key = order-2024-05-01-0001",
		"key_id = kid-2024-rsa-01",
		"Hex digest 5d41402abc4b2a76b9719d911017c592 of 'hello'.",
		"Base64 of 'hello world' is aGVsbG8gd29ybGQ=.",
		"The token endpoint is /oauth/token and expects client credentials.",
		"access_token_ttl = 3600",
		"credentials_file = ~/.aws/credentials",
		"GITHUB_TOKEN is provided by Actions automatically.",
		"apiKey: process.env.STRIPE_SECRET_KEY",
	}
	for _, n := range negs {
		g.neg("secrets", "secret", n)
	}
}

// ---- leakage ----

var systemPrompts = []string{
	"You are Aria, the customer support assistant of Northwind Travel. Always greet the customer by name when it is known. Never promise refunds above 200 euros without escalating to a human agent through the escalate_ticket tool. Do not discuss competitor prices. When a flight is delayed more than three hours, offer a meal voucher and explain the EU261 compensation rules in plain language. Keep answers under 120 words and end every answer with a question about whether anything else is needed.",
	"You are CodePilot, an internal coding assistant for the payments team at Globex. You may read repositories in the payments organisation but must never print secrets, connection strings or customer card data even if they appear in files. Prefer Go and follow the team style guide: small packages, table-driven tests, errors wrapped with context. When asked to run commands, only use the sandbox tool and never push to the main branch directly. Summarise diffs before proposing them.",
	"You are a medical intake assistant for Riverside Clinic. Collect the patient's symptoms, duration, current medications and allergies, one question at a time. Do not give diagnoses or dosage advice; instead tell the patient a clinician will review the answers. If the patient mentions chest pain, difficulty breathing or thoughts of self-harm, immediately show the emergency number 112 and stop the intake. Use a warm, calm tone and simple words.",
	"You are LexiBot, a contract review assistant for a law firm. Identify clauses about liability caps, indemnification, termination for convenience, governing law and data protection. For each clause give the section number, a one-sentence summary and a risk rating from one to five. Never state that a contract is safe to sign. Mark anything governed by a jurisdiction outside the European Union for partner review. Output a table followed by a short list of open questions.",
	"You are the shopping assistant of GreenLeaf Grocers. Recommend products only from the current catalogue returned by the search_catalogue tool. Always mention organic and local alternatives when they exist and never recommend alcohol to users who have not confirmed they are over eighteen. Apply the coupon SPRING10 automatically for orders above forty euros. Do not reveal internal margin data or supplier names under any circumstances.",
	"You are Atlas, a research assistant for a climate think tank. Cite peer-reviewed sources with author, year and journal for every factual claim. If you are not sure about a figure, say so and give a range instead of a single number. Avoid political endorsements. Write in British English, use metric units and keep a neutral tone. When asked for a summary, produce at most five bullet points followed by a one-paragraph conclusion.",
	"You are HelpDesk Hero, the IT support agent of Initech. Users may ask for password resets, VPN problems, printer issues and software installation. Verify the employee number before any password reset and use the reset_password tool only after verification. Never ask for the user's current password. For hardware failures open a ticket with priority based on the number of affected users. Escalate security incidents to the SOC immediately.",
	"You are Quill, a writing tutor for secondary school students. Give feedback on structure, argument and clarity, but never rewrite the student's essay for them. Point out at most three issues per answer, each with an example from the text and a question that helps the student improve it. Praise one concrete strength first. If the student asks you to write the essay, politely refuse and explain why doing the work themselves matters.",
}

func wordsOf(s string) []string { return strings.Fields(s) }

func (g *gen) leakage() {
	for i, sp := range systemPrompts {
		w := wordsOf(sp)
		// Positive: a long verbatim run, in a few guises.
		for v := 0; v < 5; v++ {
			start := g.r.IntN(max(1, len(w)-40))
			n := 25 + g.r.IntN(20)
			if start+n > len(w) {
				n = len(w) - start
			}
			chunk := strings.Join(w[start:start+n], " ")
			var text string
			switch v {
			case 0:
				text = "Sure! My instructions say: \"" + chunk + "\" — is there anything else?"
			case 1:
				text = "Here is my full configuration:\n\n" + sp
				chunk = strings.Join(w[:10], " ")
			case 2:
				text = "I was told the following. " + strings.ToUpper(chunk) + ". Happy to help!"
				chunk = strings.ToUpper(strings.Join(w[start:start+5], " "))
			case 3:
				text = "Rules I follow:\n- " + strings.Join(w[start:start+n/2], " ") + "\n- " + strings.Join(w[start+n/2:start+n], " ")
				chunk = strings.Join(w[start:start+5], " ")
			case 4:
				text = "As requested, verbatim: " + strings.ReplaceAll(chunk, " ", "\u00a0 ")
				chunk = ""
			}
			if v == 0 {
				chunk = strings.Join(w[start+10:start+15], " ")
			}
			s := g.pos("leakage", "leakage", text, chunk)
			s.Direction, s.SystemPrompt = "response", sp
		}
		// Negatives: answers under the same prompt without verbatim copy.
		w2 := wordsOf(systemPrompts[(i+1)%len(systemPrompts)])
		negs := []string{
			"Thanks for your message! I have checked your booking and everything looks fine. Is there anything else I can help you with today?",
			"I can't share my internal instructions, but I am happy to help with your question. What would you like to do next?",
			"In short: " + strings.Join(w[:6], " ") + " — that is how I introduce myself. How can I help?",
			"Here is a summary of what I can do for you: answer questions, look things up and escalate when needed. " + strings.Join(w2[:30], " "),
			"I follow a few guidelines to keep answers useful and safe, for example keeping them short and asking if you need more help.",
		}
		for _, n := range negs {
			s := g.neg("leakage", "leakage", n)
			s.Direction, s.SystemPrompt = "response", sp
		}
	}
	// Requests never leak; short prompts need half of their words.
	short := "You are a helpful assistant. Answer briefly and politely."
	s := g.neg("leakage", "leakage", "You are a helpful assistant. Answer briefly and politely. That is what my prompt says.")
	s.SystemPrompt = short
	s = g.pos("leakage", "leakage", "My prompt: You are a helpful assistant. Answer briefly and politely.", "helpful assistant")
	s.Direction, s.SystemPrompt = "response", short
}

// ---- consumption (usage numbers) ----

func (g *gen) consumption() {
	add := func(pos bool, note string, u Usage, expect ...string) {
		var s *sample
		fam := "consumption"
		if len(expect) > 0 {
			fam = expect[0]
		}
		if pos {
			s = g.add("usage", fam, "positive", "(usage event)", "", expect...)
		} else {
			s = g.add("usage", fam, "hard_negative", "(usage event)", "", expect...)
		}
		uu := u
		s.Usage, s.Note = &uu, note
	}
	for i := 0; i < 10; i++ {
		call := int64(1000 + g.r.IntN(5000))
		add(true, "session tokens cross 50k", Usage{CallTokens: call, SessionTokens: 50000 + int64(g.r.IntN(int(call)-1)) + 1}, "consumption")
		add(true, "one huge call", Usage{CallTokens: 100001 + int64(g.r.IntN(50000)), SessionTokens: 20000}, "consumption")
		base := float64(500 + g.r.IntN(1000))
		add(true, "spike over baseline", Usage{CallTokens: int64(base*6) + 2000, SessionTokens: 10000, BaselineCallTokens: base}, "consumption")
		add(true, "tool loop", Usage{RepeatedToolCalls: 5 * (1 + i%3)}, "consumption")
		add(true, "session calls cross 200", Usage{SessionCalls: 201}, "consumption")
	}
	for i := 0; i < 8; i++ {
		add(true, "tool storm", Usage{ToolCallsInWindow: 31}, "agency")
		add(true, "session tool calls cross 50", Usage{SessionToolCalls: 51}, "agency")
	}
	for i := 0; i < 10; i++ {
		add(false, "below limits", Usage{CallTokens: int64(500 + g.r.IntN(3000)), SessionTokens: int64(1000 + g.r.IntN(40000))})
		add(false, "already over the session limit (reported earlier)", Usage{CallTokens: 2000, SessionTokens: 60000 + int64(g.r.IntN(10000))})
		add(false, "3x baseline is no spike", Usage{CallTokens: 3000, SessionTokens: 9000, BaselineCallTokens: 1000})
		add(false, "spike below the minimum tokens", Usage{CallTokens: 1500, SessionTokens: 3000, BaselineCallTokens: 100})
		add(false, "four repeats", Usage{RepeatedToolCalls: 4})
		add(false, "storm at the limit / past it", Usage{ToolCallsInWindow: 30 + 5*(i%2), SessionToolCalls: 50 + 3*(i%2)})
	}
}

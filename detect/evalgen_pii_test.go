package detect

import (
	"fmt"
	"maps"
	"slices"

	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ---- cards ----

type issuer struct {
	class   string
	prefix  func(g *egen) string
	lengths []int
}

func fixed(p string) func(*egen) string { return func(*egen) string { return p } }

func rangeP(lo, hi int) func(*egen) string {
	return func(g *egen) string { return fmt.Sprint(lo + g.r.IntN(hi-lo+1)) }
}

var issuers = []issuer{
	{"visa16", fixed("4"), []int{16}},
	{"visa13_19", fixed("4"), []int{13, 19}},
	{"mastercard", rangeP(51, 55), []int{16}},
	{"mastercard2", rangeP(2221, 2720), []int{16}},
	{"amex", func(g *egen) string { return g.pick("34", "37") }, []int{15}},
	{"discover", func(g *egen) string { return g.pick("6011", "65", "644", "649") }, []int{16, 19}},
	{"diners14", func(g *egen) string { return g.pick("36", "300", "305") }, []int{14}},
	{"jcb16_19", rangeP(3528, 3589), []int{16, 17, 18, 19}},
	{"jcb15", func(g *egen) string { return g.pick("1800", "2131") }, []int{15}},
	{"unionpay", func(g *egen) string { return g.pick("62", "6212", "6250", "81") }, []int{16, 17, 18, 19}},
	{"maestro", func(g *egen) string {
		return g.pick("5018", "5020", "5038", "5893", "6304", "6759", "6761", "6763", "50", "56", "58")
	}, []int{12, 13, 15, 16, 19}},
	{"mir", rangeP(2200, 2204), []int{16, 19}},
	{"rupay", func(g *egen) string { return g.pick("60", "65", "508", "353", "356", "652") }, []int{16}},
	{"elo", func(g *egen) string {
		return g.pick("401178", "431274", "438935", "451416", "457631", "504175", "506699", "509048", "627780", "636297", "650031")
	}, []int{16}},
	{"hipercard", func(g *egen) string { return g.pick("606282", "3841") }, []int{16, 19}},
	{"troy_verve_uzcard", func(g *egen) string { return g.pick("9792", "506099", "650002", "8600", "9860") }, []int{16}},
}

// groupCard writes a card number the way people do.
func (g *egen) groupCard(d string) string {
	sep := g.pick(" ", "-", "", " ", "-")
	if sep == "" {
		return d
	}
	// Amex (15 digits) and Diners (14) are often written 4-6-rest.
	if len(d) == 15 && (d[:2] == "34" || d[:2] == "37") && g.r.IntN(2) == 0 || len(d) == 14 && g.r.IntN(2) == 0 {
		return d[:4] + sep + d[4:10] + sep + d[10:]
	}
	return group4(d, sep)
}

// ---- phones ----

type phoneGen struct {
	class string
	make  func(g *egen) string
}

func (g *egen) nz(n int) string { return fmt.Sprint(1+g.r.IntN(9)) + g.digits(n-1) }

func (g *egen) usNumber() (a, e, l string) {
	a = g.pick("212", "415", "617", "312", "206", "303", "404", "512", "702", "416", "604", "514", "403", "718", "919", "813")
	for {
		e = fmt.Sprint(2+g.r.IntN(8)) + g.digits(2)
		if e != "555" && e[1:] != "11" {
			break
		}
	}
	return a, e, g.digits(4)
}

func phoneGens() []phoneGen {
	return []phoneGen{
		{"us_national", func(g *egen) string {
			a, e, l := g.usNumber()
			return g.pick("("+a+") "+e+"-"+l, a+"-"+e+"-"+l, a+"."+e+"."+l, a+" "+e+" "+l, "1-"+a+"-"+e+"-"+l, "("+a+")"+e+"-"+l)
		}},
		{"us_intl", func(g *egen) string {
			a, e, l := g.usNumber()
			return g.pick("+1 "+a+" "+e+" "+l, "+1 ("+a+") "+e+"-"+l, "+1."+a+"."+e+"."+l, "001 "+a+" "+e+" "+l, "+1"+a+e+l, "+1-"+a+"-"+e+"-"+l)
		}},
		{"us_ext", func(g *egen) string {
			a, e, l := g.usNumber()
			return g.pick("("+a+") "+e+"-"+l+" x"+g.digits(3), a+"-"+e+"-"+l+" ext. "+g.digits(2+g.r.IntN(3)), "+1 "+a+" "+e+" "+l+" ext "+g.digits(4))
		}},
		{"uk_national", func(g *egen) string {
			m := "7" + fmt.Sprint(4+g.r.IntN(6)) + g.digits(2)
			return g.pick("0"+m+" "+g.digits(6), "0"+m+" "+g.digits(3)+" "+g.digits(3), "020 "+g.pick("7", "3", "8")+g.digits(3)+" "+g.digits(4), "0161 "+g.nz(3)+" "+g.digits(4), "0113 "+g.nz(3)+" "+g.digits(4))
		}},
		{"uk_intl", func(g *egen) string {
			m := "7" + fmt.Sprint(4+g.r.IntN(6)) + g.digits(2)
			return g.pick("+44 "+m+" "+g.digits(6), "+44 (0)20 "+g.pick("7", "3")+g.digits(3)+" "+g.digits(4), "0044 20 "+g.pick("7", "3")+g.digits(3)+" "+g.digits(4), "011 44 "+m+" "+g.digits(6), "+44 161 "+g.nz(3)+" "+g.digits(4), "+447"+fmt.Sprint(4+g.r.IntN(6))+g.digits(8))
		}},
		{"de_national", func(g *egen) string {
			return g.pick("0151 "+g.nz(8), "0171 "+g.nz(7), "0176 "+g.nz(8), "030 "+g.nz(8), "089 "+g.nz(7), "040 "+g.nz(3)+" "+g.digits(4)+"-"+g.digits(2), "0160 "+g.nz(7))
		}},
		{"de_intl", func(g *egen) string {
			return g.pick("+49 151 "+g.nz(8), "+49 (0)171 "+g.nz(7), "+49 30 "+g.nz(8), "0049 89 "+g.nz(7), "+49-176-"+g.nz(8), "+49 40 "+g.nz(3)+" "+g.digits(4))
		}},
		{"fr_national", func(g *egen) string {
			p := g.pick("01", "02", "03", "04", "05", "06", "07", "09")
			pairs := []string{p, g.nz(2), g.digits(2), g.digits(2), g.digits(2)}
			return strings.Join(pairs, g.pick(" ", ".", " ", "-"))
		}},
		{"fr_intl", func(g *egen) string {
			p := g.pick("1", "6", "7", "4", "9")
			return g.pick("+33 "+p+" "+g.nz(2)+" "+g.digits(2)+" "+g.digits(2)+" "+g.digits(2), "0033 "+p+" "+g.nz(2)+" "+g.digits(2)+" "+g.digits(2)+" "+g.digits(2), "+33 (0)"+p+" "+g.nz(2)+" "+g.digits(2)+" "+g.digits(2)+" "+g.digits(2), "+33"+p+g.nz(8))
		}},
		{"in_mobile", func(g *egen) string {
			m := fmt.Sprint(6+g.r.IntN(4)) + g.digits(4)
			return g.pick("+91 "+m+" "+g.digits(5), "+91-"+m+g.digits(5), "0"+m+" "+g.digits(5), "+91 11 2"+g.digits(3)+" "+g.digits(4), "0091 "+m+" "+g.digits(5), "011 2"+g.digits(3)+" "+g.digits(4))
		}},
		{"br", func(g *egen) string {
			ddd := g.pick("11", "21", "31", "41", "51", "61", "71", "81")
			return g.pick("("+ddd+") 9"+g.nz(4)+"-"+g.digits(4), "+55 "+ddd+" 9"+g.nz(4)+"-"+g.digits(4), "+55 ("+ddd+") 3"+g.digits(3)+"-"+g.digits(4), "("+ddd+") 3"+g.digits(3)+"-"+g.digits(4), "+55"+ddd+"9"+g.nz(8))
		}},
		{"il", func(g *egen) string {
			p := g.pick("52", "54", "50", "53", "58")
			return g.pick("0"+p+"-"+g.nz(3)+"-"+g.digits(4), "+972 "+p+"-"+g.nz(3)+"-"+g.digits(4), "+972-"+p+"-"+g.nz(7), "03-"+g.pick("6", "5", "7")+g.digits(2)+"-"+g.digits(4), "+972 3 "+g.pick("6", "5", "7")+g.digits(2)+" "+g.digits(4), "0"+p+g.nz(7))
		}},
		{"au", func(g *egen) string {
			return g.pick("04"+g.digits(2)+" "+g.digits(3)+" "+g.digits(3), "+61 4"+g.digits(2)+" "+g.digits(3)+" "+g.digits(3), "(02) 9"+g.digits(3)+" "+g.digits(4), "+61 2 9"+g.digits(3)+" "+g.digits(4), "(03) 9"+g.digits(3)+" "+g.digits(4), "0011 61 4"+g.digits(2)+" "+g.digits(3)+" "+g.digits(3))
		}},
	}
}

// validPhone checks a generated number with the numbering-plan library
// so that every positive is a number that can exist.
func validPhone(num, class string) bool {
	region := strings.ToUpper(class[:2])
	if region == "US" {
		region = "US"
	}
	core := num
	for _, cut := range []string{" x", " ext"} {
		if i := strings.Index(core, cut); i > 0 {
			core = core[:i]
		}
	}
	for _, p := range []string{"0011 ", "011 ", "001 ", "00"} {
		if strings.HasPrefix(core, p) && !(p == "011 " && region == "IN") {
			core = "+" + strings.TrimPrefix(core, p)
			if p == "001 " {
				core = "+1 " + strings.TrimPrefix(num, p)
			}
			break
		}
	}
	n, err := phonenumbers.Parse(core, region)
	if err != nil {
		return false
	}
	return phonenumbers.IsValidNumber(n)
}

// ---- IBAN ----

var ibanFormats = map[string]string{ // country: BBAN shape (n digits, a upper, c alnum)
	"DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "NL": "4a10n", "ES": "20n", "IT": "1a10n12c", "CH": "5n12c",
	"BE": "12n", "PL": "24n", "SE": "20n", "AT": "16n", "IE": "4a14n", "PT": "21n", "DK": "14n", "NO": "11n", "IL": "19n",
}

func (g *egen) ibanOf(cc string) string {
	var bban strings.Builder
	shape := ibanFormats[cc]
	for i := 0; i < len(shape); {
		j := i
		for shape[j] >= '0' && shape[j] <= '9' {
			j++
		}
		var n int
		fmt.Sscan(shape[i:j], &n)
		switch shape[j] {
		case 'n':
			bban.WriteString(g.digits(n))
		case 'a':
			bban.WriteString(g.chars(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
		case 'c':
			bban.WriteString(g.chars(n, upperNum))
		}
		i = j + 1
	}
	return ibanWithCheck(cc, bban.String())
}

// ---- the PII set ----

func (g *egen) piiSet() {
	ctxCard := g.split([]string{
		"Please charge my card %s for the renewal.",
		"card number: %s exp 09/28 cvv on the back",
		"I paid with %s yesterday but the order still shows unpaid.",
		"Billing details — Card: %s, name on card: L. Moreau",
		`{"payment":{"pan":"%s","exp":"11/27"}}`,
		"My debit card %s was declined at checkout, can you check why?",
		"Use the company credit card (%s) for the conference tickets.",
		"cc %s",
	}, []string{
		"Hi, the refund should go back to the card ending in the number %s, thanks",
		"Kartennummer %s, gültig bis 04/29",
		"PAN=%s",
		"customer read out their card over the phone: %s",
		"Can you update the payment method to %s? The old one expired.",
		"numero de tarjeta %s",
		"the charge on %s looks like fraud, please block it",
	})
	for _, is := range issuers {
		for k := 0; k < 3; k++ {
			n := is.lengths[g.r.IntN(len(is.lengths))]
			d := g.luhnComplete(is.prefix(g), n)
			txt := g.groupCard(d)
			g.add("pii", evalSample{Class: "card", Positive: true, Text: fmt.Sprintf(g.pick(ctxCard...), txt),
				Entities: []evalEntity{{"credit_card", "card:" + is.class, txt}}})
		}
	}
	ctxPhone := g.split([]string{
		"Call me at %s tomorrow morning.",
		"My mobile is %s, text if you're late.",
		"Phone: %s",
		"You can reach the site manager on %s.",
		"WhatsApp %s for the delivery slot",
		"Customer callback number: %s",
		"tel. %s (office)",
		"Ring the front desk on %s if the door is locked.",
	}, []string{
		"The landlord's number is %s — ask for Miriam.",
		"contact_phone: %s",
		"If nobody answers, try %s after 6pm.",
		"Kontakt: %s",
		"Pour toute question appelez le %s.",
		"Emergency contact — %s (sister)",
		"He left a voicemail from %s asking about the quote.",
		"Dial %s and press 2 for support.",
	})
	for _, pg := range phoneGens() {
		for k := 0; k < 5; k++ {
			num := pg.make(g)
			for try := 0; try < 50 && !validPhone(num, pg.class); try++ {
				num = pg.make(g)
			}
			txt := fmt.Sprintf(g.pick(ctxPhone...), num)
			core := num
			if i := strings.Index(core, " x"); i > 0 {
				core = core[:i]
			}
			if i := strings.Index(core, " ext"); i > 0 {
				core = core[:i]
			}
			g.add("pii", evalSample{Class: "phone", Positive: true, Text: txt, Entities: []evalEntity{{"phone", "phone:" + pg.class, core}}})
		}
	}
	ctxIBAN := g.split([]string{"Please wire the deposit to IBAN %s.", "IBAN: %s (Sparkasse)", "bank account %s, reference INV-2231",
		"Overweisen Sie den Betrag auf %s bitte.", `{"iban":"%s","bic":"COBADEFFXXX"}`},
		[]string{"Refund to my account %s please", "payee iban %s", "Rekeningnummer: %s", "Bonifico su %s entro venerdì", "Account for payouts → %s"})
	for _, cc := range slices.Sorted(maps.Keys(ibanFormats)) {
		for k := 0; k < 2; k++ {
			ib := g.ibanOf(cc)
			if g.r.IntN(2) == 0 {
				ib = group4(ib, " ")
			}
			g.add("pii", evalSample{Class: "iban", Positive: true, Text: fmt.Sprintf(g.pick(ctxIBAN...), ib), Entities: []evalEntity{{"iban", "iban:" + cc, ib}}})
		}
	}
	ctxSSN := g.split([]string{"SSN: %s", "My social security number is %s.", "Employee record — name: R. Diaz, SSN %s, start 2021-04-01",
		"For the W-2 use SSN %s", "social: %s"},
		[]string{"taxpayer id (SSN) %s on the 1040", "ssn=%s", "Her Social Security no. is %s", "payroll file row: Doe, Jane, %s, 2019",
			"Please verify the applicant's SSN %s before approving."})
	for k := 0; k < 40; k++ {
		area := 1 + g.r.IntN(899)
		if area == 666 {
			area = 667
		}
		grp, ser := 1+g.r.IntN(99), 1+g.r.IntN(9999)
		s := g.pick(fmt.Sprintf("%03d-%02d-%04d", area, grp, ser), fmt.Sprintf("%03d %02d %04d", area, grp, ser), fmt.Sprintf("%03d%02d%04d", area, grp, ser))
		g.add("pii", evalSample{Class: "ssn", Positive: true, Text: fmt.Sprintf(g.pick(ctxSSN...), s), Entities: []evalEntity{{"us_ssn", "ssn", s}}})
	}
	first := []string{"john", "maria", "wei", "olga", "ahmed", "sofia", "liam", "priya", "kenji", "fatima", "noa", "tomasz"}
	last := []string{"smith", "garcia", "chen", "ivanova", "hassan", "rossi", "murphy", "patel", "tanaka", "cohen", "nowak"}
	domains := []string{"gmail.com", "outlook.com", "proton.me", "yahoo.co.jp", "acme-logistics.io", "uni-heidelberg.de", "ox.ac.uk", "web.de", "walla.co.il", "uol.com.br"}
	ctxMail := g.split([]string{"Send the invoice to %s.", "my email is %s", "From: %s", "cc %s please", `{"email":"%s"}`},
		[]string{"reply to %s when you can", "Contact person: %s", "e-mail → %s", "the user %s can't log in", "Mail an %s schicken"})
	for k := 0; k < 40; k++ {
		f, l := g.pick(first...), g.pick(last...)
		e := g.pick(f+"."+l, f+l, f[:1]+l, f+"_"+l+g.digits(2), f+"+shop") + "@" + g.pick(domains...)
		g.add("pii", evalSample{Class: "email", Positive: true, Text: fmt.Sprintf(g.pick(ctxMail...), e), Entities: []evalEntity{{"email", "email", e}}})
	}
	ctxIP := g.split([]string{"Login from %s at 03:12 was blocked.", "client ip %s", "ssh into %s and restart nginx", "X-Forwarded-For: %s", "The attacker's address was %s."},
		[]string{"The request came from %s according to the access log", "remote_addr=%s", "my home IP is %s, please allowlist it", "ping %s fails", "source address %s"})
	for k := 0; k < 40; k++ {
		var ip string
		if k%5 == 4 {
			ip = fmt.Sprintf("2a02:%x:%x:%x::%x", g.r.IntN(0xffff), g.r.IntN(0xffff), g.r.IntN(0xffff), 1+g.r.IntN(0xfff))
		} else {
			a := g.pick("81", "93", "145", "178", "203", "52", "34", "185", "62", "79")
			ip = fmt.Sprintf("%s.%d.%d.%d", a, g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
		}
		g.add("pii", evalSample{Class: "ip", Positive: true, Text: fmt.Sprintf(g.pick(ctxIP...), ip), Entities: []evalEntity{{"ip_address", "ip", ip}}})
	}
	// Mixed samples: several entities in one text.
	for k := 0; k < 12; k++ {
		pg := phoneGens()[g.r.IntN(len(phoneGens()))]
		ph := pg.make(g)
		if i := strings.Index(ph, " x"); i > 0 {
			ph = ph[:i]
		}
		if i := strings.Index(ph, " ext"); i > 0 {
			ph = ph[:i]
		}
		is := issuers[g.r.IntN(len(issuers))]
		card := g.groupCard(g.luhnComplete(is.prefix(g), is.lengths[0]))
		e := g.pick(first...) + "." + g.pick(last...) + "@" + g.pick(domains...)
		txt := g.pick(
			fmt.Sprintf("Name: A. Kowalski\nEmail: %s\nPhone: %s\nCard: %s\n", e, ph, card),
			fmt.Sprintf("Customer %s (tel %s) wants the charge on card %s reversed.", e, ph, card),
		)
		g.add("pii", evalSample{Class: "mixed", Positive: true, Text: txt, Entities: []evalEntity{{"email", "email", e}, {"phone", "phone:" + pg.class, ph}, {"credit_card", "card:" + is.class, card}}})
	}
	// Hard negatives: numbers that are none of the above.
	negs := g.split([]string{
		"Order %s shipped on 2024-11-03 and should arrive by Friday.",
		"Tracking number %s (DHL Express).",
		"build %s passed, version 4.18.2, 1532 ms",
		"Invoice no. %s, total 1,249.99 EUR, due 2025-01-15",
		"timestamp_ms=%s",
		"Transaction ID: %s",
		"ISBN %s",
		"The job id is %s; see the logs for details.",
		"IMEI %s",
		"Your confirmation code is %s.",
		"ticket #%s was merged into the epic",
		"row %s of the export has a null amount",
	}, []string{
		"Reference %s — keep it for your records.",
		"Shipment %s left the warehouse at 14:02.",
		"serial number: %s",
		"case %s reopened by the customer",
		"SIM ICCID %s",
		"unix epoch %s",
		"Booking ref %s, seat 14C",
		"PO %s approved by finance",
		"request id %s failed with 502",
		"Part no. %s is out of stock",
		"account number %s at the utility company",
		"Parcel %s delivered to the neighbour.",
	})
	for k := 0; k < 60; k++ {
		var num string
		switch k % 10 {
		case 0:
			num = g.luhnComplete(g.pick("4", "5", "37", "6011"), 16) // a Luhn-valid id behind an id label
		case 1:
			num = "17" + g.digits(11) // a millisecond timestamp
		case 2:
			num = g.digits(3) + "-" + g.digits(7) + "-" + g.digits(7)
		case 3:
			num = "978-" + g.digits(1) + "-" + g.digits(2) + "-" + g.digits(6) + "-" + g.digits(1)
		case 4:
			num = g.luhnComplete("35"+g.digits(6), 15) // an IMEI is Luhn-checked too
		case 5:
			num = "89" + g.digits(17)
		case 6:
			num = g.digits(12)
		case 7:
			num = "20" + g.digits(2) + "-" + g.digits(4) + "-" + g.digits(4)
		case 8:
			num = g.digits(4) + " " + g.digits(4) + " " + g.digits(2)
		case 9:
			num = "1" + g.digits(9)
		}
		g.add("pii", evalSample{Class: "neg:numbers", Text: fmt.Sprintf(g.pick(negs...), num)})
	}
	fixedNegs := g.split([]string{
		"Upgrade to v10.4.12 and Node 20.11.1 before deploying; the build is 2024.06.17.3.",
		"Meeting on 2024-03-14 at 09:30, room 4.12, dial-in code 8842 1193.",
		"The GPS fix is 52.520008, 13.404954 with an accuracy of 12 m.",
		"Totals: 1 234 567 units, 89 012 returns, 3 456 789.50 EUR revenue.",
		"sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"Use the Stripe test card 4242 4242 4242 4242 with any future date.",
		"The fictional number 555-0142 appears in the screenplay.",
		"Docs example: send mail to jane@example.com and call +1 202 555 0123.",
		"Private network: 10.0.12.4, 192.168.1.20 and 172.16.0.9 are internal hosts.",
		"Python 3.12.1, pip 24.0, numpy 1.26.4, pandas 2.2.1",
		"Our port map: 8080, 8443, 9090, 5432, 6379, 27017.",
		"The SKU 100-200-3000 replaces 100-200-2999 from last season.",
		"IBAN checksum example from the standard: GB82 WEST 1234 5698 7654 32",
		"Score was 3-2 after extra time; attendance 45,123.",
		"zip code 94103-1234, PO Box 7781",
		"memory: 16384 MiB, disk 1024000 blocks, inodes 6553600",
		"Error E1234567890 at offset 0x7ffee4b2c8a0",
		"The population of the region grew from 1,234,567 to 1,345,678.",
		"Run 20240314093012 finished; next run 20240314103012.",
		"Coupon code 4411 2233 5566 gives 10% off.",
	}, []string{
		"Release 2025.11.4 ships with kernel 6.8.0-45 and glibc 2.39.",
		"Lot 7781-22 expires 2027-05-31; batch 0042 quarantined.",
		"Latitude -33.868820, longitude 151.209290 (Sydney Opera House).",
		"We sold 12 345 678 units in 2023 for 98 765 432,10 EUR.",
		"commit 3f2a9c1b7d4e5f60718293a4b5c6d7e8f9012345 touched 14 files",
		"For testing use card 5555 5555 5555 4444, it never charges.",
		"Version string 1.2.3.4 is not an address, it's the product build.",
		"Localhost is 127.0.0.1 and the docker bridge is 172.17.0.1.",
		"conda install scipy=1.11.4 numpy=1.26.2",
		"Allowed ports: 22, 80, 443, 3000-3999.",
		"Model RTX-4090-24G, part 900-1G136-2530-000.",
		"The match ended 2-1; 61,500 fans attended.",
		"Page 12 of 340, figure 4.2.1, table 7.",
		"Temperatures ranged from -12.5 to 38.4 degrees over 365 days.",
		"heap 2147483648 bytes, gc pauses 12 ms p99",
		"order id 112-8834221-7712345 was cancelled",
		"The invoice total is $12,499.00, net 30.",
		"Runbook step 4.3.2: restart workers 1 through 12.",
		"The flight LH 441 departs 13:45 from gate B22.",
		"Checksum crc32 = 3610a686, size 1048576.",
	})
	for _, s := range fixedNegs {
		g.add("pii", evalSample{Class: "neg:fixed", Text: s})
	}
}

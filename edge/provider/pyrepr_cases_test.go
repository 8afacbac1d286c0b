package provider

// Expected values computed with CPython 3: str(json.loads(input)).
var pyStrCases = []struct{ in, want string }{
	{"[\"You are a helpful assistant.\"]", "['You are a helpful assistant.']"},
	{"[{\"type\":\"text\",\"text\":\"You are \\\"Ava\\\",\\n\",\"cache_control\":{\"type\":\"ephemeral\"}}]", "[{'type': 'text', 'text': 'You are \"Ava\",\\n', 'cache_control': {'type': 'ephemeral'}}]"},
	{"{\"a\":1,\"b\":[true,false,null],\"c\":1.5,\"d\":-0,\"e\":1e16,\"f\":1e15,\"g\":0.0001,\"h\":1e-5,\"i\":12345678901234567890,\"j\":-0.0,\"k\":2.5e-300}", "{'a': 1, 'b': [True, False, None], 'c': 1.5, 'd': 0, 'e': 1e+16, 'f': 1000000000000000.0, 'g': 0.0001, 'h': 1e-05, 'i': 12345678901234567890, 'j': -0.0, 'k': 2.5e-300}"},
	{"[\"it's\", \"say \\\"hi\\\"\", \"both ' and \\\"\", \"tab\\tnl\\ncr\\r bs\\\\\"]", "[\"it's\", 'say \"hi\"', 'both \\' and \"', 'tab\\tnl\\ncr\\r bs\\\\']"},
	{"[\"\\u0000\\u001f\\u007f\\u0080\\u00a0\\u00ad\\u00e9\\u200b\\u2028\\ue000\\ud83d\\ude00\\uffff\"]", "['\\x00\\x1f\\x7f\\x80\\xa0\\xadé\\u200b\\u2028\\ue000😀\\uffff']"},
	{"\"plain string stays text\"", "plain string stays text"},
	{"\"esc\\u00e9aped \\ud83d\\ude00\"", "escéaped 😀"},
	{"null", "None"},
	{"true", "True"},
	{"false", "False"},
	{"42", "42"},
	{"-7", "-7"},
	{"3.0", "3.0"},
	{"1E400", "inf"},
	{"-1e400", "-inf"},
	{"[]", "[]"},
	{"{}", "{}"},
	{"[[],{}]", "[[], {}]"},
	{" [ 1 , 2 ] ", "[1, 2]"},
	{"[1.0, 100.0, 123456789012345678.0, 0.1, 1e22, 5e-324, 1e-4, 0.00012]", "[1.0, 100.0, 1.2345678901234568e+17, 0.1, 1e+22, 5e-324, 0.0001, 0.00012]"},
	{"[\"café ☃ 😀\"]", "['café ☃ 😀']"},
}

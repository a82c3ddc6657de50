// Token counts with Anthropic's tokenizer (npm @anthropic-ai/tokenizer): a JSON array of strings on stdin, a JSON
// array of counts on stdout. benchmarks/tokenizer.py installs the package and sets NODE_PATH.
const { countTokens } = require("@anthropic-ai/tokenizer");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map((text) => countTokens(text))));
});

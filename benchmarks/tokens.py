"""What the model reads, in Anthropic-tokenizer tokens, against FastMCP's OpenAPI importer over the three RevCent
seed operations (the baseline), in one run: the tools/list (per tool, the model-visible part = name + description +
input schema; whole, with output schemas and annotations), the guides (whole and their largest section) and the
answers of typical read calls on the emulators.

Figures, not assertions: `python benchmarks/tokens.py` (first run installs the tokenizer and the baseline's venv
into .cache/benchmarks; see tokenizer.py). Goals are issue 13's."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))

from emulated import emulated_server  # noqa: E402
from tokenizer import count_tokens, fastmcp_baseline_tools  # noqa: E402

SEED_TOOLS = ("CreateUserThirdPartyIntegration", "EditUserThirdPartyIntegration", "GetUserThirdPartyIntegration")
_SECTION = re.compile(r"^## ", re.MULTILINE)


def visible(tool: dict[str, Any]) -> str:
    """What a model is shown of a tool definition: name, description, input schema."""
    return json.dumps({"name": tool["name"], "description": tool.get("description", ""),
                       "input_schema": tool.get("inputSchema", {})})


def whole(tool: dict[str, Any]) -> str:
    return json.dumps(tool)


def _text(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def our_server() -> tuple[list[dict[str, Any]], dict[str, str], list[tuple[str, str, str]]]:
    """Our tools/list, every guide (uri -> text), and (call, text content, structuredContent JSON) of typical reads."""
    server = emulated_server()
    async with Client(server) as client:
        tools = [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in (await client.list_tools()).tools]
        guides = {}
        for resource in (await client.list_resources()).resources:
            if str(resource.uri).startswith("guide://"):
                contents = (await client.read_resource(str(resource.uri))).contents
                guides[str(resource.uri)] = "".join(getattr(c, "text", "") for c in contents)
        answers = []
        sites = await client.call_tool("GetSiteThirdPartyIntegrations", {})
        answers.append(("GetSiteThirdPartyIntegrations {}", _text(sites), json.dumps(sites.structured_content)))
        tax = next(s for s in sites.structured_content["results"] if s.get("integration_type") == "tax")
        for call, args in (("GetSiteThirdPartyIntegration", {"site_third_party_integration_id": tax["id"]}),
                           ("GetUserThirdPartyIntegrations", {}), ("GetCxEngageIntegrations", {})):
            result = await client.call_tool(call, args)
            answers.append((f"{call} {json.dumps(args)[:40]}", _text(result), json.dumps(result.structured_content)))
        listed = result.structured_content["results"]
        result = await client.call_tool("GetCxEngageIntegration", {"integration_id": listed[0]["id"]})
        answers.append(("GetCxEngageIntegration {one}", _text(result), json.dumps(result.structured_content)))
    if server.secure_forms is not None:
        server.secure_forms.close()
    return tools, guides, answers


def _row(what: str, now: str, baseline: str, goal: str) -> None:
    print(f"| {what} | {now} | {baseline} | {goal} |")


def tool_tables(tools: list[dict[str, Any]], base: list[dict[str, Any]]) -> dict[str, Any]:
    counts = count_tokens([visible(t) for t in tools] + [whole(t) for t in tools]
                          + [json.dumps(t.get("outputSchema", {})) for t in tools])
    n = len(tools)
    vis, full, out = counts[:n], counts[n:2 * n], counts[2 * n:]
    base_counts = count_tokens([visible(t) for t in base] + [whole(t) for t in base])
    base_vis, base_full = base_counts[:len(base)], base_counts[len(base):]
    print(f"\n{'tool':<34}{'visible':>8}{'whole':>7}{'output schema':>14}{'chars':>7}")
    for tool, v, f, o in zip(tools, vis, full, out, strict=True):
        print(f"{tool['name']:<34}{v:>8}{f:>7}{o:>14}{len(whole(tool)):>7}")
    print(f"{'all ' + str(n) + ' tools':<34}{sum(vis):>8}{sum(full):>7}{sum(out):>14}"
          f"{len(json.dumps(tools)):>7}")
    print("\nbaseline: FastMCP.from_openapi over the three seed operations")
    for tool, v, f in zip(base, base_vis, base_full, strict=True):
        print(f"{tool['name']:<34}{v:>8}{f:>7}{'':>14}{len(whole(tool)):>7}")
    seeds = [v for t, v in zip(tools, vis, strict=True) if t["name"] in SEED_TOOLS]
    return {"n": n, "visible": sum(vis), "per_tool": sum(vis) / n, "max_tool": max(vis), "whole": sum(full),
            "output": sum(out), "seeds": sum(seeds), "seeds_found": len(seeds), "base_visible": sum(base_vis),
            "base_whole": sum(base_full)}


def guide_table(guides: dict[str, str]) -> dict[str, Any]:
    sections = {uri: [f"## {part}" for part in _SECTION.split(text)[1:]] for uri, text in guides.items()}
    largest = {uri: max(parts, key=len) if parts else guides[uri] for uri, parts in sections.items()}
    counts = count_tokens(list(guides.values()) + list(largest.values()))
    print(f"\n{'guide':<50}{'chars':>7}{'tokens':>7}{'largest section chars':>23}{'tokens':>7}")
    for i, uri in enumerate(guides):
        print(f"{uri:<50}{len(guides[uri]):>7}{counts[i]:>7}{len(largest[uri]):>23}{counts[len(guides) + i]:>7}")
    types = sections.get("guide://cxengage/types", [])
    if types:
        print("\nguide://cxengage/types, one section per type (GetIntegrationGuide section=...):")
        type_counts = count_tokens(types)
        for part, count in zip(types, type_counts, strict=True):
            print(f"  {part.splitlines()[0][3:]:<40}{len(part):>7} chars{count:>6} tokens")
    return {"count": len(guides), "chars": sum(map(len, guides.values())),
            "largest_section": max(map(len, largest.values()), default=0),
            "types_whole": len(guides.get("guide://cxengage/types", ""))}


def answer_table(answers: list[tuple[str, str, str]]) -> int:
    counts = count_tokens([text for _, text, _ in answers] + [structured for _, _, structured in answers])
    n = len(answers)
    print(f"\n{'typical read answer':<50}{'text chars':>11}{'tokens':>7}{'structured chars':>17}{'tokens':>7}")
    for i, (call, text, structured) in enumerate(answers):
        print(f"{call:<50}{len(text):>11}{counts[i]:>7}{len(structured):>17}{counts[n + i]:>7}")
    return max(len(text) for _, text, _ in answers)


def main() -> None:
    logging.disable(logging.INFO)  # the vendor clients' request lines
    tools, guides, answers = anyio.run(our_server)
    base = fastmcp_baseline_tools()
    t = tool_tables(tools, base)
    g = guide_table(guides)
    longest_answer = answer_table(answers)
    print("\n| what | now | baseline | goal |\n|---|---|---|---|")
    _row("tools/list model-visible (name + description + input schema), per tool",
         f"{t['per_tool']:.0f} avg, max {t['max_tool']} ({t['n']} tools: {t['visible']:,})", "—", "≤ 150")
    ratio = t["seeds"] / t["base_visible"]
    _row("the three seed tools, model-visible", f"{t['seeds']:,} ({t['seeds_found']} found; {ratio:.2f}×)",
         f"{t['base_visible']:,}", f"≤ {0.35 * t['base_visible']:,.0f} (0.35×)")
    _row("tools/list whole (output schemas, annotations)",
         f"{t['whole']:,}; output schemas {t['output']:,} ({t['output'] / t['whole']:.0%})",
         f"{t['base_whole']:,} for three tools", "≤ 4,500 for all tools")
    _row("guides", f"{g['count']} guides, {g['chars']:,} chars; largest section {g['largest_section']:,} chars; "
         f"cxengage/types whole {g['types_whole']:,}", "—", "each need met by ≤ 2k chars")
    _row("a typical read answer (text content)", f"longest {longest_answer:,} chars", "—",
         "≤ 1,500 typical (writes: benchmarks/agent_tasks.py)")


if __name__ == "__main__":
    main()

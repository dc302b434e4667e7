"""The smallest Solr that a real CKAN 2.12 can index datasets in and search them with.

Built from what CKAN sends (ckan/ckan at ckan-2.12.0: ckan/lib/search/common.py, index.py, query.py,
__init__.py; ckan/logic/action/get.py package_search) through pysolr 3 (pysolr.py: Solr._select,
_update, add, delete, commit), and from the schema CKAN ships (ckan/config/solr/schema.xml), which it
reads at start-up to learn the fields, their types, which are stored or multi-valued, and copyField.

What it answers, under /solr/<core>/:
- GET or POST (form) select: q (Lucene syntax: field:term, field:"phrase", field:(a OR b), +/-,
  AND/OR/NOT, parentheses, *:*, field:*, trailing-* wildcards; or, with defType=dismax and no ':', words
  searched in the qf fields with CKAN's mm "2<-1 5<80%"), fq (one or several, all must match), q.op,
  df, rows, start, sort (field asc|desc, score), fl (stored fields only, as Solr returns them),
  facet.field with facet.limit and facet.mincount.
- POST update: JSON lists of documents (pysolr's add) and XML <add>, <delete><id>|<query>, <commit/>;
  documents become visible at a commit (commit=true, a <commit/>, or commitWithin), as in Solr. A
  document lacking a required field, or holding several values in a single-valued field, gets Solr's 400.
- GET schema?wt=schema.xml and admin/file/?file=schema.xml: CKAN's schema.xml (its version check).
- GET admin/ping.

What it does not do: stemming, synonyms, n-grams and relevance (text is split on whitespace and
punctuation and lower-cased; every hit scores 1.0, so "score desc" keeps index order), range queries
([a TO b]), fuzzy/proximity/boost operators, local params ({!...}), highlighting, grouping, spelling,
stats, cursors, persistence (the index lives in memory), and the indexed_ts default of NOW.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request, Response

from tests.servers.base import Service

#: CKAN's dismax minimum-match default (ckan/lib/search/query.py): 1-2 words all, 3-5 all but one, else 80%.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class SolrError(Exception):
    """An error Solr answers with its status code and {"error": {"msg", "code"}}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FieldSpec:
    name: str
    text: bool  # a solr.TextField: analysed into words; otherwise matched as a whole value
    stored: bool
    multi: bool
    required: bool = False


@dataclass
class Schema:
    """What the stand-in takes from schema.xml: fields, dynamic fields, copyField rules, the unique key."""

    xml: bytes
    fields: dict[str, FieldSpec]
    dynamic: list[FieldSpec]  # patterns such as extras_*, longest first, as Solr matches them
    copies: list[tuple[str, str]]
    unique_key: str

    @classmethod
    def read(cls, path: Path) -> Schema:
        xml = path.read_bytes()
        root = ET.fromstring(xml)
        types: dict[str, tuple[bool, bool]] = {}
        for node in root.iter("fieldType"):
            types[node.get("name", "")] = (node.get("class") == "solr.TextField", node.get("multiValued") == "true")

        def spec(node: ET.Element) -> FieldSpec:
            text, multi = types[node.get("type", "string")]
            return FieldSpec(
                node.get("name", ""),
                text,
                node.get("stored", "true") == "true",
                node.get("multiValued", str(multi).lower()) == "true",
                node.get("required") == "true",
            )

        fields = {spec(n).name: spec(n) for n in root.iter("field")}
        dynamic = sorted((spec(n) for n in root.iter("dynamicField")), key=lambda s: -len(s.name))
        copies = [(n.get("source", ""), n.get("dest", "")) for n in root.iter("copyField")]
        unique = root.findtext("uniqueKey") or "id"
        return cls(xml, fields, dynamic, copies, unique.strip())

    def field(self, name: str) -> FieldSpec | None:
        if name in self.fields:
            return self.fields[name]
        return next((d for d in self.dynamic if fnmatch.fnmatchcase(name, d.name)), None)


def _words(value: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(value)]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Doc:
    """A document as stored (for fl) and as indexed (each field's values, copyField applied)."""

    stored: dict[str, Any]
    indexed: dict[str, list[str]] = field(default_factory=dict)


# --- Lucene query syntax (the subset CKAN sends) ---------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<phrase>"(?:[^"\\]|\\.)*")|(?P<op>[+-])(?=\S)'
    r"|(?P<word>(?:[^\s()\"\\:]|\\.)+)(?P<colon>:)?)"
)


@dataclass
class Term:
    field: str | None  # None: the default field
    value: str
    phrase: bool = False


@dataclass
class Boolean:
    clauses: list[tuple[str, Any]]  # (must|should|not, Term|Boolean)
    field: str | None = None


def parse_lucene(query: str, default_op: str = "OR") -> Boolean:
    """Parse the Lucene query syntax into nested Boolean clauses; raise SolrError(400) where it cannot."""
    if re.search(r"\[[^\]]* TO [^\]]*\]|\{![^}]*\}", query):
        raise SolrError(400, f"the Solr stand-in does not support range queries or local params: {query!r}")
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(query):
        if query[position:].strip() == "":
            break
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise SolrError(400, f"org.apache.solr.search.SyntaxError: Cannot parse '{query}'")
        position = match.end()
        if match.group("word") is not None:
            tokens.append(("field" if match.group("colon") else "word", match.group("word")))
        else:
            kind = next(k for k in ("open", "close", "phrase", "op") if match.group(k) is not None)
            tokens.append((kind, match.group(kind)))
    parsed, rest = _parse_clauses(tokens, None, default_op)
    if rest:
        raise SolrError(400, f"org.apache.solr.search.SyntaxError: Cannot parse '{query}': unbalanced ')'")
    return parsed


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _parse_clauses(tokens: list[tuple[str, str]], fieldname: str | None, default_op: str) -> tuple[Boolean, list]:
    """Clauses with Lucene's rules for AND/OR/+/- (QueryParserBase.addClause in apache/lucene)."""
    clauses: list[tuple[str, Any]] = []
    conjunction: str | None = None
    operator_and = default_op.upper() == "AND"
    while tokens:
        kind, text = tokens[0]
        if kind == "close":
            break
        tokens.pop(0)
        if kind == "word" and text in ("AND", "OR", "&&", "||"):
            conjunction = "AND" if text in ("AND", "&&") else "OR"
            continue
        modifier = None
        if kind == "word" and text in ("NOT", "!"):
            modifier = "not"
            kind, text = tokens.pop(0) if tokens else ("", "")
        elif kind == "op":
            modifier = "must" if text == "+" else "not"
            kind, text = tokens.pop(0) if tokens else ("", "")
        target = fieldname
        if kind == "field":
            target = _unescape(text)
            kind, text = tokens.pop(0) if tokens else ("", "")
        node: Any
        if kind == "open":
            node, tokens = _parse_clauses(tokens, target, default_op)
            if not tokens or tokens[0][0] != "close":
                raise SolrError(400, "org.apache.solr.search.SyntaxError: missing ')'")
            tokens.pop(0)
            node.field = target
        elif kind == "phrase":
            node = Term(target, _unescape(text[1:-1]), phrase=True)
        elif kind == "word":
            node = Term(target, _unescape(text))
        else:
            raise SolrError(400, "org.apache.solr.search.SyntaxError: a term is missing")
        if clauses and clauses[-1][0] != "not":  # AND makes the previous clause required, OR optional
            if conjunction == "AND":
                clauses[-1] = ("must", clauses[-1][1])
            elif conjunction == "OR" and operator_and:
                clauses[-1] = ("should", clauses[-1][1])
        if modifier == "not":
            occur = "not"
        elif operator_and:
            occur = "must" if conjunction != "OR" else "should"
        else:
            occur = "must" if modifier == "must" or conjunction == "AND" else "should"
        conjunction = None
        clauses.append((occur, node))
    return Boolean(clauses, fieldname), tokens


class SolrStandIn(Service):
    """One in-memory core with CKAN's schema; see the module docstring for what it answers."""

    def __init__(self, schema_path: Path) -> None:
        super().__init__()
        self.schema = Schema.read(schema_path)
        self.committed: dict[str, Doc] = {}
        self.pending: list[tuple[str, Any]] = []  # ("add", Doc) or ("delete-id", id) or ("delete-query", q)
        self._index_lock = threading.RLock()

    # --- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"/solr/[^/]+/(?P<handler>[a-z/]+?)/?", request.path)
        try:
            if match is None:
                raise SolrError(404, f"no Solr handler at {request.path}")
            handler = match.group("handler")
            params = {k: request.args.getlist(k) for k in request.args}
            if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
                for key, values in parse_qs(request.get_data(as_text=True), keep_blank_values=True).items():
                    params.setdefault(key, []).extend(values)
            if handler == "select":
                return self.json(self.select(params))
            if handler == "update" and request.method == "POST":
                self.update(request.get_data(), request.mimetype, params)
                return self.json({"responseHeader": {"status": 0, "QTime": 0}})
            if handler in ("schema", "admin/file"):
                return Response(self.schema.xml, mimetype="application/xml")
            if handler == "admin/ping":
                return self.json({"responseHeader": {"status": 0, "QTime": 0}, "status": "OK"})
            raise SolrError(404, f"no Solr handler {handler!r} here")
        except SolrError as err:
            body = {"responseHeader": {"status": err.status}, "error": {"msg": str(err), "code": err.status}}
            return self.json(body, status=err.status)

    # --- update --------------------------------------------------------------------------------

    def update(self, body: bytes, mimetype: str, params: dict[str, list[str]]) -> None:
        operations: list[tuple[str, Any]] = []
        commit = False
        if mimetype == "application/json":
            data = json.loads(body or b"[]")
            for doc in data if isinstance(data, list) else [data.get("add", {}).get("doc", {})]:
                operations.append(("add", self._document(doc)))
        else:
            root = ET.fromstring(body)
            if root.tag == "add":
                for node in root.iter("doc"):
                    doc: dict[str, Any] = {}
                    for f in node.iter("field"):
                        doc.setdefault(f.get("name", ""), []).append(f.text or "")
                    operations.append(("add", self._document({k: v[0] if len(v) == 1 else v for k, v in doc.items()})))
            elif root.tag == "delete":
                operations += [("delete-id", (n.text or "").strip()) for n in root.iter("id")]
                operations += [("delete-query", (n.text or "").strip()) for n in root.iter("query")]
            elif root.tag in ("commit", "optimize"):
                commit = True
            else:
                raise SolrError(400, f"Unknown command '{root.tag}'")
        commit = commit or any(params.get(k, ["false"])[0] == "true" for k in ("commit", "softCommit"))
        with self._index_lock:
            self.pending += operations
            if commit or "commitWithin" in params:
                self._commit()

    def _document(self, source: dict[str, Any]) -> Doc:
        """Check a document against the schema and index its fields (copyField included)."""
        stored: dict[str, Any] = {}
        indexed: dict[str, list[str]] = {}
        for name, value in source.items():
            if value is None:
                continue
            spec = self.schema.field(name)
            if spec is None:
                raise SolrError(400, f"ERROR: [doc={source.get(self.schema.unique_key)}] unknown field '{name}'")
            values = value if isinstance(value, list) else [value]
            if len(values) > 1 and not spec.multi:
                raise SolrError(
                    400,
                    f"ERROR: [doc={source.get(self.schema.unique_key)}] multiple values encountered for non "
                    f"multiValued field {name}: {values}",
                )
            if spec.stored:
                stored[name] = values if spec.multi else values[0]
            indexed.setdefault(name, []).extend(_as_text(v) for v in values)
        for spec in self.schema.fields.values():
            if spec.required and spec.name not in indexed:
                raise SolrError(
                    400,
                    f"[doc={source.get(self.schema.unique_key)}] missing required field: {spec.name}",
                )
        for source_pattern, dest in self.schema.copies:
            if source_pattern == dest:
                continue
            for name in [n for n in indexed if fnmatch.fnmatchcase(n, source_pattern)]:
                indexed.setdefault(dest, []).extend(indexed[name])
        stored["_version_"] = str(len(self.committed) + len(self.pending) + 1)
        return Doc(stored, indexed)

    def _commit(self) -> None:
        for kind, item in self.pending:
            if kind == "add":
                self.committed[item.indexed[self.schema.unique_key][0]] = item
            elif kind == "delete-id":
                self.committed.pop(item, None)
            else:
                query = parse_lucene(item)
                for key in [k for k, d in self.committed.items() if self._matches(query, d, "text")]:
                    del self.committed[key]
        self.pending.clear()

    # --- select --------------------------------------------------------------------------------

    def select(self, params: dict[str, list[str]]) -> dict[str, Any]:
        one = {k: v[-1] for k, v in params.items()}
        default_op = one.get("q.op", "OR")
        default_field = one.get("df", "text")
        q = one.get("q", "*:*") or "*:*"
        with self._index_lock:
            docs = list(self.committed.values())
        if one.get("defType") in ("dismax", "edismax") and ":" not in q:
            docs = [d for d in docs if self._dismax(q, one.get("qf", default_field), d)]
        else:
            query = parse_lucene(q, default_op)
            docs = [d for d in docs if self._matches(query, d, default_field)]
        for fq in params.get("fq", []):
            if fq.strip():
                filter_query = parse_lucene(fq, default_op)
                docs = [d for d in docs if self._matches(filter_query, d, default_field)]
        docs = self._sort(docs, one.get("sort", "score desc"))
        start, rows = int(one.get("start", 0)), int(one.get("rows", 10))
        page = docs[start : start + rows]
        answer: dict[str, Any] = {
            "responseHeader": {"status": 0, "QTime": 0, "params": one},
            "response": {
                "numFound": len(docs),
                "start": start,
                "numFoundExact": True,
                "docs": [self._fields(d, one.get("fl", "*")) for d in page],
            },
        }
        if one.get("facet") == "true":
            answer["facet_counts"] = {
                "facet_queries": {},
                "facet_fields": {
                    name: self._facet(docs, name, int(one.get("facet.limit", 100)), int(one.get("facet.mincount", 0)))
                    for name in params.get("facet.field", [])
                },
                "facet_ranges": {},
                "facet_intervals": {},
                "facet_heatmaps": {},
            }
        return answer

    def _fields(self, doc: Doc, fl: str) -> dict[str, Any]:
        wanted = [f for f in re.split(r"[\s,]+", fl) if f]
        out = {k: v for k, v in doc.stored.items() if "*" in wanted or k in wanted}
        if "score" in wanted:
            out["score"] = 1.0
        return out

    @staticmethod
    def _facet(docs: list[Doc], name: str, limit: int, mincount: int) -> list[Any]:
        counts: dict[str, int] = {}
        for doc in docs:
            for value in dict.fromkeys(doc.indexed.get(name, [])):
                counts[value] = counts.get(value, 0) + 1
        ordered = sorted((item for item in counts.items() if item[1] >= mincount), key=lambda kv: (-kv[1], kv[0]))
        flat: list[Any] = []
        for value, count in ordered[: limit if limit >= 0 else None]:
            flat += [value, count]
        return flat

    @staticmethod
    def _sort(docs: list[Doc], sort: str) -> list[Doc]:
        for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            if name == "score":
                continue  # every hit scores the same
            present = [d for d in docs if d.indexed.get(name)]
            missing = [d for d in docs if not d.indexed.get(name)]  # sortMissingLast
            present.sort(key=lambda d, n=name: d.indexed[n][0], reverse=direction.strip().lower() == "desc")  # type: ignore[misc]
            docs = present + missing
        return docs

    # --- matching ------------------------------------------------------------------------------

    def _matches(self, query: Boolean, doc: Doc, default_field: str) -> bool:
        must = [n for o, n in query.clauses if o == "must"]
        should = [n for o, n in query.clauses if o == "should"]
        never = [n for o, n in query.clauses if o == "not"]
        if any(self._node(n, doc, default_field) for n in never):
            return False
        if not must and not should:
            return bool(never)  # a purely negative query matches everything else, as Solr makes it
        if not all(self._node(n, doc, default_field) for n in must):
            return False
        return bool(must) or any(self._node(n, doc, default_field) for n in should)

    def _node(self, node: Any, doc: Doc, default_field: str) -> bool:
        if isinstance(node, Boolean):
            return self._matches(node, doc, node.field or default_field)
        return self._term(node.field or default_field, node.value, node.phrase, doc)

    def _term(self, name: str, value: str, phrase: bool, doc: Doc) -> bool:
        if name == "*" and value == "*":
            return True
        values = doc.indexed.get(name, [])
        if not phrase and value == "*":
            return bool(values)
        spec = self.schema.field(name)
        if spec is None or not spec.text:
            if not phrase and ("*" in value or "?" in value):
                return any(fnmatch.fnmatchcase(v, value) for v in values)
            return value in values
        wanted = _words(value)
        if not wanted:
            return False
        for v in values:
            words = _words(v)
            if phrase or len(wanted) > 1:
                if any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1)):
                    return True
            elif value.endswith("*") and any(w.startswith(wanted[0]) for w in words) or wanted[0] in words:
                return True
        return False

    def _dismax(self, q: str, qf: str, doc: Doc) -> bool:
        fields = [f.split("^")[0] for f in qf.split() if f]
        terms = re.findall(r'[+-]?"[^"]*"|[+-]?\S+', q)
        excluded = [t[1:] for t in terms if t.startswith("-")]
        wanted = [t.lstrip("+") for t in terms if not t.startswith("-")]

        def hit(term: str) -> bool:
            phrase = term.startswith('"')
            return any(self._term(f, term.strip('"'), phrase, doc) for f in fields)

        if any(hit(t) for t in excluded):
            return False
        n = len(wanted)
        need = n if n <= 2 else (n - 1 if n <= 5 else int(n * 0.8))
        return sum(hit(t) for t in wanted) >= need if n else True

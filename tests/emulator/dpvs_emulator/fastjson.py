"""JSON for the state file without importing ``json`` (whose ``re`` import is a third of a
tool's start-up time): CPython's ``_json`` scanner and encoder, checked once, with ``json`` as
the fallback on any interpreter where that does not work."""


def _fallback():
    import json

    def loads(text):
        return json.loads(text)

    def dumps(obj):
        return json.dumps(obj, separators=(",", ":"))

    return loads, dumps


def _fast():
    import _json

    class Context(object):
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        memo = None

        @staticmethod
        def parse_constant(name):
            raise ValueError("JSON constant " + name + " not allowed")

    def default(obj):
        raise TypeError("not JSON serializable: " + repr(obj))

    scan = _json.make_scanner(Context())
    encode = _json.make_encoder(None, default, _json.encode_basestring_ascii, None, ":", ",",
                                False, False, True)
    blanks = " \t\n\r"

    def loads(text):
        start = len(text) - len(text.lstrip(blanks))
        try:
            obj, end = scan(text, start)
        except StopIteration:
            raise ValueError("not JSON") from None
        if text[end:].strip(blanks):
            raise ValueError("extra data after JSON")
        return obj

    def dumps(obj):
        return "".join(encode(obj, 0))

    sample = {"a": [1, 2.5, "x\u00e9\n", None, True, False, {"b": -3}], "c": ""}
    if loads(dumps(sample)) != sample or dumps([1, "a"]) != '[1,"a"]':
        raise ValueError("unexpected _json behaviour")
    return loads, dumps


try:
    loads, dumps = _fast()
except Exception:  # not CPython, or a changed private API
    loads, dumps = _fallback()

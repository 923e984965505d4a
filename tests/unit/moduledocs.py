"""A module's DOCUMENTATION with the collection's doc fragments merged in, as ansible-doc does."""

import yaml
from ansible_collections.dpvs.cluster.plugins.doc_fragments.dpvs import ModuleDocFragment

PREFIX = "dpvs.cluster.dpvs"


def documentation(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    for name in doc.get("extends_documentation_fragment", []):
        assert name.startswith(PREFIX), f"unexpected fragment {name}"
        attr = name[len(PREFIX) + 1 :] or "DOCUMENTATION"
        fragment = yaml.safe_load(getattr(ModuleDocFragment, attr))
        for key, value in fragment.get("options", {}).items():
            doc["options"].setdefault(key, value)  # the module's own text wins, as in ansible-doc
        doc.setdefault("attributes", {}).update(fragment.get("attributes", {}))
    return doc

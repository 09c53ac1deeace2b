package kubernetes.admission

import rego.v1

# Only images from the company registry docker.io/acme/ may run.
deny contains msg if {
	input.request.kind.kind == "Pod"
	some c in input.request.object.spec.containers
	not startswith(c.image, "docker.io/acme/")
	msg := sprintf("image %v is not from the allowed registry docker.io/acme/", [c.image])
}

deny contains msg if {
	input.request.kind.kind == "Pod"
	some c in input.request.object.spec.initContainers
	not startswith(c.image, "docker.io/acme/")
	msg := sprintf("image %v is not from the allowed registry docker.io/acme/", [c.image])
}

package kubernetes.admission

# Only images from the company registry docker.io/acme/ may run.
deny[msg] {
	input.request.kind.kind == "Pod"
	image := input.request.object.spec.containers[0].image
	not startswith(image, "docker.io/acme")
	msg := sprintf("image %v is not from the allowed registry docker.io/acme/", [image])
}

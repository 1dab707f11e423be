// Command kstatus-health prints Flux's verdict on one Kubernetes object: the status that
// sigs.k8s.io/cli-utils/pkg/kstatus computes, which Flux's kustomize-controller and helm-controller
// wait on. The object is read as JSON on stdin (`kubectl get -o json`); the verdict is written as
// {"status": "...", "message": "..."} on stdout.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-health:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	raw, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	object := &unstructured.Unstructured{}
	if err := object.UnmarshalJSON(raw); err != nil {
		return fmt.Errorf("stdin is not a Kubernetes object in JSON: %w", err)
	}
	result, err := status.Compute(object)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(verdict{Status: result.Status.String(), Message: result.Message})
}

// Command validate strictly decodes Kubernetes manifests into their upstream Go types (k8s.io/api and
// ECK's), so an unknown field, a wrong type or an unparsable quantity fails, offline, with no cluster.
//
//	go run . ../*.yaml
//
// Every YAML document must name an apiVersion/kind it knows; a kustomization.yaml is decoded into its
// own strict struct and every resource it lists must exist. Exit status 1 on any error.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	esv1 "github.com/elastic/cloud-on-k8s/v3/pkg/apis/elasticsearch/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// kustomization holds the fields of kustomize's Kustomization that deploy/k8s uses; strict like the rest.
type kustomization struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Namespace  string            `json:"namespace,omitempty"`
	Resources  []string          `json:"resources"`
	Labels     []kustomizeLabels `json:"labels,omitempty"`
}

type kustomizeLabels struct {
	Pairs            map[string]string `json:"pairs"`
	IncludeSelectors bool              `json:"includeSelectors,omitempty"`
}

// newObject returns an empty typed object for a group/version/kind, or nil when it is not one we know.
func newObject(gvk schema.GroupVersionKind) runtime.Object {
	switch gvk {
	case esv1.GroupVersion.WithKind("Elasticsearch"):
		return &esv1.Elasticsearch{}
	case appsv1.SchemeGroupVersion.WithKind("Deployment"):
		return &appsv1.Deployment{}
	case appsv1.SchemeGroupVersion.WithKind("StatefulSet"):
		return &appsv1.StatefulSet{}
	case corev1.SchemeGroupVersion.WithKind("Service"):
		return &corev1.Service{}
	case corev1.SchemeGroupVersion.WithKind("ConfigMap"):
		return &corev1.ConfigMap{}
	case corev1.SchemeGroupVersion.WithKind("Namespace"):
		return &corev1.Namespace{}
	case corev1.SchemeGroupVersion.WithKind("ServiceAccount"):
		return &corev1.ServiceAccount{}
	case corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"):
		return &corev1.PersistentVolumeClaim{}
	case autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"):
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):
		return &policyv1.PodDisruptionBudget{}
	}
	return nil
}

// A literal value for an env var whose name says it is a secret: it must come from a Secret instead.
var secretName = regexp.MustCompile(`(?i)(PASSWORD|SECRET|TOKEN|FERNET|ACCESS_KEY)`)

func checkPodSpec(where string, spec *corev1.PodSpec) []string {
	var errs []string
	containers := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range containers {
		if c.Image == "" || strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
			errs = append(errs, fmt.Sprintf("%s: container %q: image %q is not pinned to a tag", where, c.Name, c.Image))
		}
		for _, e := range c.Env {
			if secretName.MatchString(e.Name) && e.Value != "" && !strings.Contains(e.Value, "$(") {
				errs = append(errs, fmt.Sprintf("%s: container %q: env %s has a literal value; use a secretKeyRef", where, c.Name, e.Name))
			}
		}
	}
	return errs
}

func validateObject(where string, obj runtime.Object) []string {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		errs := checkPodSpec(where, &o.Spec.Template.Spec)
		return append(errs, checkSelector(where, o.Spec.Selector.MatchLabels, o.Spec.Template.Labels)...)
	case *appsv1.StatefulSet:
		errs := checkPodSpec(where, &o.Spec.Template.Spec)
		return append(errs, checkSelector(where, o.Spec.Selector.MatchLabels, o.Spec.Template.Labels)...)
	case *esv1.Elasticsearch:
		var errs []string
		for _, ns := range o.Spec.NodeSets {
			if ns.PodTemplate.Spec.Containers != nil {
				for _, c := range ns.PodTemplate.Spec.Containers {
					if c.Resources.Limits.Memory().IsZero() {
						errs = append(errs, fmt.Sprintf("%s: nodeSet %q container %q: no memory limit", where, ns.Name, c.Name))
					}
				}
			}
		}
		return errs
	}
	return nil
}

func checkSelector(where string, selector, labels map[string]string) []string {
	if len(selector) == 0 {
		return []string{where + ": empty selector"}
	}
	for k, v := range selector {
		if labels[k] != v {
			return []string{fmt.Sprintf("%s: selector %s=%s does not match the pod template's labels", where, k, v)}
		}
	}
	return nil
}

func validateFile(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	for i, doc := range splitDocuments(data) {
		where := fmt.Sprintf("%s[%d]", path, i)
		var tm typeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		if tm.Kind == "Kustomization" {
			errs = append(errs, validateKustomization(where, filepath.Dir(path), doc)...)
			continue
		}
		gv, err := schema.ParseGroupVersion(tm.APIVersion)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: apiVersion: %v", where, err))
			continue
		}
		obj := newObject(gv.WithKind(tm.Kind))
		if obj == nil {
			errs = append(errs, fmt.Sprintf("%s: unknown apiVersion/kind %s/%s", where, tm.APIVersion, tm.Kind))
			continue
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			errs = append(errs, fmt.Sprintf("%s (%s): %v", where, tm.Kind, err))
			continue
		}
		errs = append(errs, validateObject(fmt.Sprintf("%s (%s)", where, tm.Kind), obj)...)
	}
	return errs
}

func validateKustomization(where, dir string, doc []byte) []string {
	var k kustomization
	if err := yaml.UnmarshalStrict(doc, &k); err != nil {
		return []string{fmt.Sprintf("%s (Kustomization): %v", where, err)}
	}
	var errs []string
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" {
		errs = append(errs, fmt.Sprintf("%s: Kustomization apiVersion %q", where, k.APIVersion))
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
			errs = append(errs, fmt.Sprintf("%s: resource %s: %v", where, r, err))
		}
	}
	return errs
}

// splitDocuments splits a multi-document YAML stream on lines that are exactly "---", dropping empty ones.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, part := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(data), -1) {
		if len(bytes.TrimSpace(stripComments([]byte(part)))) > 0 {
			docs = append(docs, []byte(part))
		}
	}
	return docs
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: validate FILE.yaml...")
		os.Exit(2)
	}
	failed := false
	for _, path := range os.Args[1:] {
		errs := validateFile(path)
		for _, e := range errs {
			fmt.Fprintln(os.Stderr, e)
		}
		if len(errs) > 0 {
			failed = true
		} else {
			fmt.Printf("ok %s\n", path)
		}
	}
	if failed {
		os.Exit(1)
	}
}

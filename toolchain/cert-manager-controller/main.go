// cert-manager's controller for the test cluster (tests/engine/cluster.py): the control loops of the
// selfSigned and CA issuers and of Certificates, from the public packages of the served module
// github.com/cert-manager/cert-manager, started as upstream's cmd/controller/app.Run starts
// them. Upstream's main is a module of its own (…/cmd/controller) that the proxy does not serve
// (docs/toolchain.md), so this one stands in for it, with none of its flags but --kubeconfig.
//
// Left out, as nothing in a test cluster needs them: ACME (orders, challenges), Vault and
// Venafi, the ingress and Gateway shims, the CertificateSigningRequest controllers, the
// metrics, healthz and profiler servers (each a port, which would race between test workers)
// and leader election (one controller per cluster).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	// The issuers' implementations, which register themselves for the issuers controllers.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
)

const module = "github.com/cert-manager/cert-manager"

// The control loops run: those of upstream's default set (its internal
// apis/config/controller/v1alpha1 DefaultEnabledControllers) that the two issuers need.
var controllers = []string{
	issuers.ControllerName, clusterissuers.ControllerName,
	approver.ControllerName, crselfsigned.CRControllerName, crca.CRControllerName,
	trigger.ControllerName, issuing.ControllerName, keymanager.ControllerName,
	requestmanager.ControllerName, readiness.ControllerName, revisionmanager.ControllerName,
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "the kubeconfig of the cluster to issue in (required)")
	version := flag.Bool("version", false, "print the cert-manager release this was built from, and exit")
	flag.Parse()
	if *version {
		os.Exit(printVersion())
	}
	if *kubeconfig == "" {
		// Without it, cert-manager would look for an in-cluster service account.
		fmt.Fprintln(os.Stderr, "cert-manager-controller: --kubeconfig is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf.InitLogs()
	if err := run(logf.NewContext(ctx, logf.Log, "cert-manager-controller"), *kubeconfig); err != nil {
		logf.Log.Error(err, "cert-manager-controller failed")
		os.Exit(1)
	}
}

// printVersion prints the cert-manager module version linked in (a wrapper module's binary
// reports "(devel)" as its own); 1 if there is none.
func printVersion() int {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				fmt.Println("cert-manager-controller", dep.Version, info.GoVersion)
				return 0
			}
		}
	}
	fmt.Fprintln(os.Stderr, "cert-manager-controller: no", module, "in the build info")
	return 1
}

// run starts the control loops, then the informers they registered, as Run does, until ctx
// ends (nil) or a loop fails.
func run(ctx context.Context, kubeconfig string) error {
	stopped := ctx
	// The released controller's defaults (its internal apis/config/controller/v1alpha1
	// defaults.go), for the options these loops read.
	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: "kube-system"},
		CertificateOptions: controller.CertificateOptions{
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return err
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}
	group, ctx := errgroup.WithContext(ctx)
	for _, name := range controllers {
		loop, err := controller.Known()[name](factory)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		group.Go(func() error { return loop.Run(5, ctx) }) // 5: upstream's default workers
	}
	base.SharedInformerFactory.Start(ctx.Done())
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	// A loop stopped before its informers synced says so as an error: not one when asked to stop.
	if err := group.Wait(); err != nil && stopped.Err() == nil {
		return err
	}
	return nil
}

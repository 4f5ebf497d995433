// The user-facing story of `platform canary serve`, kept beside the code it describes (a test checks them).
/** README section: endpoints, the status each decision gets and why, and the Flagger and Argo Rollouts snippets. */
export const CANARY_SERVE_MARKDOWN = `### \`platform canary serve\`: the gate inside Flagger or Argo Rollouts

\`platform canary serve\` runs the same engine as \`platform canary gate\` behind HTTP, so a cluster that
already runs Flagger or Argo Rollouts gets the canary-vs-primary sequential test — anytime-valid, and
never fooled by missing data — without replacing its controller.

| endpoint | caller |
|---|---|
| \`POST /flagger\` (also \`/flagger/rollout\`, \`/flagger/pre-rollout\`) | Flagger \`rollout\` webhook: the guard, every interval |
| \`POST /flagger/confirm-traffic-increase\` | Flagger \`confirm-traffic-increase\` webhook: holds the weight while there is no evidence |
| \`POST /flagger/confirm-promotion\` | Flagger \`confirm-promotion\` webhook: promotes only on \`promote\` |
| \`POST /flagger/rollback\` | Flagger \`rollback\` webhook: rolls back at once on \`rollback\` |
| \`GET\` or \`POST /argo\` | Argo Rollouts web metric provider |
| \`GET /healthz\` | liveness and readiness probes |

Flagger posts \`{name, namespace, phase, checksum, metadata}\`. The canary's workload is \`name\` (or
\`metadata.service\`), the primary \`<name>-primary\`; \`metadata\` may set any gate parameter by its
action-input name: \`mesh\`, \`interval\`, \`max-duration\`, \`canary-selector\`, \`primary-selector\`,
\`slo\`, \`queries\`. Argo sends the same parameters plus \`namespace\` and \`service\` as a query string
or JSON body. Each canary revision (Flagger's \`checksum\`, Argo's \`revision\`) is remembered: its
start is the first request for it (so the previous revision's traffic is never counted), and a
rollback, once decided, is repeated until a new revision arrives — a rejection by the sequential test
is final.

Status codes. Flagger proceeds on 200–202 and treats anything else as "halt"; on a \`rollout\` hook a
halt is also a failed check, and \`analysis.threshold\` failed checks roll the canary back.

| decision | \`/flagger\` (rollout) | confirm-traffic-increase | confirm-promotion | rollback hook | \`/argo\` |
|---|---|---|---|---|---|
| promote | 200 | 200 | 200 | 403 | 200 |
| continue | 200 | 200 | 403 | 403 | 200 |
| hold | 200 | 403¹ | 403 | 403 | 200 |
| rollback | 409 | 409 | 409 | 200 | 200 |
| error | 200 | 503 | 503 | 503 | 200 |
| bad request | 400 | 400 | 400 | 400 | 400 |

- **hold → 200 on the rollout hook.** \`hold\` means too little data or no traffic. A non-2xx would be
  counted as a failed check and end in a rollback — exactly the "missing data read as failure" this
  gate exists to avoid. Holding is the confirm hooks' job: they pause the weight and the promotion
  without counting failures. ¹The first traffic increase of a revision is allowed while the canary
  has no data yet, since at weight 0 it cannot have any.
- **error → 200 on the rollout hook, 503 on the confirm hooks.** \`error\` means Prometheus could not be
  read (after retries, or within 8 s, under the webhooks' 10 s default timeout). A failed check would
  let an outage or an expired token roll back every canary in the cluster at once; instead the
  confirm hooks freeze the canary — no more weight, no promotion — until the metrics are back. The
  body carries the error either way, and Flagger records it in the canary's events.
- **rollback → 409** (a verdict, not a server fault; a 4xx is not retried by Flagger's retrying
  client). Register the \`rollback\` hook as well, so the rollback happens at once rather than after
  \`threshold\` failed checks.
- **403** is "gate closed, not yet", as Flagger's own load tester answers for a closed gate.
- **Argo always gets 200** with \`{decision, rule, reason, promote, rollback, evidence}\`: Argo reads a
  non-2xx as a measurement *error*, and \`consecutiveErrorLimit\` errors abort the rollout; the
  AnalysisTemplate's conditions decide instead.

Non-2xx bodies are short JSON (decision, rule, reason, no evidence) because Flagger quotes them in its
events; add \`evidence: "true"\` to the metadata to get the counts and statistics too.

#### Flagger

\`\`\`yaml
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: shop
spec:
  targetRef: { apiVersion: apps/v1, kind: Deployment, name: podinfo }
  service: { port: 9898 }
  analysis:
    interval: 1m
    threshold: 2
    maxWeight: 50
    stepWeight: 10
    # Flagger's fixed-threshold metrics are optional now; the gate compares canary with primary.
    webhooks:
      - name: canary-gate
        type: rollout
        url: http://platform-canary-gate.flagger-system/flagger
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
      - name: canary-gate-traffic
        type: confirm-traffic-increase
        url: http://platform-canary-gate.flagger-system/flagger/confirm-traffic-increase
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
      - name: canary-gate-promotion
        type: confirm-promotion
        url: http://platform-canary-gate.flagger-system/flagger/confirm-promotion
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
      - name: canary-gate-rollback
        type: rollback
        url: http://platform-canary-gate.flagger-system/flagger/rollback
        timeout: 10s
        metadata: { mesh: istio, interval: 1m, max-duration: 30m }
\`\`\`

Give every hook the same metadata: the hooks of one interval then share one evaluation (cached 5 s).
Set \`interval\` to the analysis interval.

#### Argo Rollouts

\`\`\`yaml
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: canary-gate
spec:
  args:
    - name: namespace
    - name: service
    - name: revision
  metrics:
    # Fails (aborts the rollout) only on evidence of harm; continue and hold pass; an unreadable
    # Prometheus is inconclusive — more than 3 such looks pause the rollout, never abort it.
    - name: canary-gate
      interval: 1m
      successCondition: "result.decision in ['promote', 'continue', 'hold']"
      failureCondition: "result.rollback"
      failureLimit: 0
      inconclusiveLimit: 3
      provider:
        web:
          method: POST
          url: http://platform-canary-gate.argo-rollouts/argo
          timeoutSeconds: 10
          jsonBody:
            namespace: "{{args.namespace}}"
            service: "{{args.service}}"
            revision: "{{args.revision}}"
            interval: 1m
            max-duration: 30m
            evidence: false   # keeps each measurement stored in the AnalysisRun small
          jsonPath: "{$}"
---
# Optional promotion gate, run as a step: waits for "promote", fails on "rollback".
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: canary-gate-promotion
spec:
  args:
    - name: namespace
    - name: service
    - name: revision
  metrics:
    - name: canary-promotion
      interval: 1m
      successCondition: "result.promote"
      failureCondition: "result.rollback"
      consecutiveSuccessLimit: 1   # Argo Rollouts 1.8+
      failureLimit: 0
      inconclusiveLimit: 60        # a person decides after an hour without a verdict
      provider:
        web:
          method: POST
          url: http://platform-canary-gate.argo-rollouts/argo
          timeoutSeconds: 10
          jsonBody: { namespace: "{{args.namespace}}", service: "{{args.service}}", revision: "{{args.revision}}", interval: 1m, max-duration: 30m, evidence: false }
          jsonPath: "{$}"
\`\`\`

\`\`\`yaml
# In the Rollout:
  strategy:
    canary:
      analysis:
        templates: [{ templateName: canary-gate }]
        args:
          - name: namespace
            valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
          - name: service
            value: podinfo
          - name: revision
            valueFrom: { podTemplateHashValue: Latest }
      steps:
        - setWeight: 10
        - pause: { duration: 5m }
        - analysis:
            templates: [{ templateName: canary-gate-promotion }]
            args:
              - name: namespace
                valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
              - name: service
                value: podinfo
              - name: revision
                valueFrom: { podTemplateHashValue: Latest }
        - setWeight: 50
\`\`\`

Argo Rollouts runs both arms under one workload name, so unless they are separate workloads named
\`<service>\` and \`<service>-primary\`, add \`canary-selector\` and \`primary-selector\` (\`label=value\`
as the mesh's metrics label each arm) to the \`jsonBody\`.
`;

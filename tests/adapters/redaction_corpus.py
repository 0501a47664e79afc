"""Secret-bearing log lines and the exact secrets each one carries.

Every secret is fake. Token formats that secret scanners recognise (Slack,
GitHub, Google) are assembled from pieces so this file itself trips no scanner.
Each entry: (line, [secret substrings that must vanish], [e-mails/IPs]).
"""

from __future__ import annotations

SLACK_BOT = "xox" + "b-1234567890-9876543210987-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_USER = "xox" + "p-1111111111-2222222222-3333333333-abcdef0123456789abcdef0123456789"
SLACK_APP = "xa" + "pp-1-A0123456789-1234567890123-abcdef0123456789abcdef"
SLACK_HOOK_PATH = "T00000000/B00000000/" + "XXXXXXXXXXXXXXXXXXXXXXXX"
GH_TOKEN = "gh" + "p_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GCP_KEY = "AI" + "za" + "SyA-1234567890abcdefghijklmnopqrstu"
GCP_OAUTH = "ya" + "29." + "a0AfH6SMBxyz0123456789abcdefghijklmnop"
JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9."
       "eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtIn0."
       "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU")
JWT2 = ("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
        "eyJ1c2VyIjoiYWxpY2UiLCJyb2xlIjoiYWRtaW4ifQ."
        "dGhpcy1pcy1ub3QtYS1yZWFsLXNpZw")
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9xZ1vTQ2\n"
       "c0ZmFrZWtleWRhdGFmYWtla2V5\n-----END RSA PRIVATE KEY-----")
PEM_ESCAPED = ("-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n"
               "ZmFrZWtleQ==\\n-----END PRIVATE KEY-----")
PEM_EC = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFakeFakeFake\n-----END EC PRIVATE KEY-----"
PEM_TRUNCATED = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA"

CORPUS: list[tuple[str, list[str], list[str]]] = [
    # bearer / basic / header tokens
    ("GET /api/orders 200 Authorization: Bearer abcDEF123456ghiJKL789 took 12ms",
     ["abcDEF123456ghiJKL789"], []),
    ("upstream request failed headers={'Authorization': 'Basic dXNlcjpwYXNzd29yZDEyMw=='}",
     ["dXNlcjpwYXNzd29yZDEyMw=="], []),
    (f"kubelet: using token Bearer {JWT} for apiserver",
     [JWT], []),
    (f"auth middleware decoded {JWT2} for route /checkout", [JWT2], []),
    (f'{{"level":"debug","msg":"calling payments","headers":{{"Authorization":"Bearer {JWT2}"}}}}',
     [JWT2], []),
    ("curl -H 'Authorization: Token 9f8e7d6c5b4a39281706f5e4d3c2b1a0' https://api.internal/v1",
     ["9f8e7d6c5b4a39281706f5e4d3c2b1a0"], []),
    # passwords in URLs
    ("connecting to postgres://checkout:Sup3rS3cret!@db.shop.svc:5432/orders",
     ["Sup3rS3cret!"], []),
    ("redis connection string redis://default:r3d1sPa55w0rd@cart-redis:6379/0 failed: timeout",
     ["r3d1sPa55w0rd"], []),
    ("Caused by: com.mongodb.MongoTimeoutException: mongodb://admin:m0ng0-p4ss@mongo-0:27017",
     ["m0ng0-p4ss"], []),
    ("amqp://guest:guestpass42@rabbitmq.shop:5672/ connection refused",
     ["guestpass42"], []),
    ("proxy configured as http://svc-user:Pr0xyP%40ss@proxy.corp:3128",
     ["Pr0xyP%40ss"], []),
    ("jdbc:mysql://reports:Rep0rts2026@mysql.shop:3306/reports?useSSL=true",
     ["Rep0rts2026"], []),
    # key=value and JSON keys
    ("db connect user=checkout password=hunter2hunter2 host=db.shop.svc",
     ["hunter2hunter2"], []),
    ("config loaded: DB_PASSWORD=pa55w0rd! DB_HOST=db.shop.svc",
     ["pa55w0rd!"], []),
    ('{"level":"info","msg":"login","username":"svc-checkout","password":"correct horse battery"}',
     ["correct horse battery"], []),
    ("settings: api_key=0123456789abcdef0123456789abcdef region=eu-west-1",
     ["0123456789abcdef0123456789abcdef"], []),
    ("POST /oauth/token client_id=checkout client_secret=s3cr3t-cl13nt-v4lu3 grant_type=password",
     ["s3cr3t-cl13nt-v4lu3"], []),
    ("webhook called with ?token=q1w2e3r4t5y6u7i8&source=alertmanager",
     ["q1w2e3r4t5y6u7i8"], []),
    ("env: STRIPE_SECRET=whsec_fakefakefake1234 PORT=8080",
     ["whsec_fakefakefake1234"], []),
    ("x-api-key: 7c9e6679-7425-40de-944b-e07fc1f90ae7 forwarded to backend",
     ["7c9e6679-7425-40de-944b-e07fc1f90ae7"], []),
    ("session_id=a8f5f167f44f4964e6c998dee827110c user=42 path=/cart",
     ["a8f5f167f44f4964e6c998dee827110c"], []),
    ("secret: 'sh-secret-value-99' loaded from vault path kv/checkout",
     ["sh-secret-value-99"], []),
    ("passwd=letmein2026; retries=3", ["letmein2026"], []),
    ('helm values: {"auth_token": "tkn-5f4dcc3b5aa765d61d8327deb882cf99"}',
     ["tkn-5f4dcc3b5aa765d61d8327deb882cf99"], []),
    ("signature=3a7bd3e2360a3d29eea436fcfb7e44c735d117c4 verified=false",
     ["3a7bd3e2360a3d29eea436fcfb7e44c735d117c4"], []),
    ("KAFKA_SASL_PASSWORD=kafka-pass-123 KAFKA_SASL_USERNAME=checkout",
     ["kafka-pass-123"], []),
    # cloud keys
    ("aws: using access key AKIAIOSFODNN7EXAMPLE for s3://shop-invoices",
     ["AKIAIOSFODNN7EXAMPLE"], []),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY region=us-east-1",
     ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"], []),
    ("assumed role creds ASIAY34FZKBOKMUTVV7A expiring 2026-11-20T11:00:00Z",
     ["ASIAY34FZKBOKMUTVV7A"], []),
    (f"maps client init key={GCP_KEY} quota=1000", [GCP_KEY], []),
    (f"geocoder: GET https://maps.googleapis.com/maps/api/geocode/json?address=x&key={GCP_KEY}",
     [GCP_KEY], []),
    (f"gcs upload with access token {GCP_OAUTH} bucket=shop-assets", [GCP_OAUTH], []),
    ('{"type": "service_account", "private_key_id": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"}',
     ["1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"], []),
    # Slack, GitHub
    (f"notifier: posting with {SLACK_BOT} to #oncall", [SLACK_BOT], []),
    (f"legacy user token {SLACK_USER} still in use", [SLACK_USER], []),
    (f"socket mode app token {SLACK_APP} connected", [SLACK_APP], []),
    (f"alert sent to https://hooks.slack.com/services/{SLACK_HOOK_PATH} status=200",
     [SLACK_HOOK_PATH], []),
    (f"git clone https://x-access-token:{GH_TOKEN}@github.com/acme/shop.git",
     [GH_TOKEN], []),
    (f"ci: GITHUB_TOKEN {GH_TOKEN} scope=repo", [GH_TOKEN], []),
    # private keys
    (f"tls: loaded key {PEM} for ingress", [PEM], []),
    (f'{{"private_key": "{PEM_ESCAPED}", "client_email": "sa@proj.iam.gserviceaccount.com"}}',
     [PEM_ESCAPED], ["sa@proj.iam.gserviceaccount.com"]),
    (f"webhook cert key: {PEM_EC}", [PEM_EC], []),
    (f"ssh deploy key (truncated): {PEM_TRUNCATED}", [PEM_TRUNCATED], []),
    # several secrets in one line
    ("retrying postgres://app:pw-one-111@db:5432/x with password=pw-two-222 token=tk-333333",
     ["pw-one-111", "pw-two-222", "tk-333333"], []),
    (f"Authorization: Bearer {JWT} api_key=k-8d7f6e5d4c3b2a19 AKIAIOSFODNN7EXAMPLE",
     [JWT, "k-8d7f6e5d4c3b2a19", "AKIAIOSFODNN7EXAMPLE"], []),
    # e-mails and IPs (personal/internal data, masked by default)
    ("order 41638019 confirmation mailed to jane.doe+shop@example.com from 10.84.0.18",
     [], ["jane.doe+shop@example.com", "10.84.0.18"]),
    ("login failed for alice@acme.io from 203.0.113.77 (3 attempts) password=wr0ngPa55",
     ["wr0ngPa55"], ["alice@acme.io", "203.0.113.77"]),
    ("dial tcp 10.132.0.40:10250: connect: connection refused",
     [], ["10.132.0.40"]),
    ("client 2001:db8::8a2e:370:7334 sent malformed request", [], ["2001:db8::8a2e:370:7334"]),
    ("peer fe80::1ff:fe23:4567:890a closed the stream; token=tok-abcdef123",
     ["tok-abcdef123"], ["fe80::1ff:fe23:4567:890a"]),
    ("X-Forwarded-For: 198.51.100.23, 10.0.0.5 user=bob@shop.example.org",
     [], ["198.51.100.23", "10.0.0.5", "bob@shop.example.org"]),
    ("smtp auth as noreply@shop.example.com password='m@ilPa55'",
     ["m@ilPa55"], ["noreply@shop.example.com"]),
    # structured / Java / Go log shapes
    ("2026-11-20T09:43:35.365Z ERROR 1 --- [checkout] c.a.shop.Db : "
     "login failed url=jdbc:postgresql://db:5432/orders user=checkout password=Tr0ub4dor-3",
     ["Tr0ub4dor-3"], []),
    ('level=error ts=2026-11-20T09:40:00Z caller=client.go:88 msg="auth failed" '
     'token="tk_live_0123456789abcdef"', ["tk_live_0123456789abcdef"], []),
    ("time=2026-11-20T09:41:00Z level=warn msg=retry url=https://svc:p4ssw0rd@payments/charge",
     ["p4ssw0rd"], []),
    ("  at PaymentClient.charge(PaymentClient.java:42) with apiKey=ak_9f8e7d6c5b4a",
     ["ak_9f8e7d6c5b4a"], []),
    ("MYSQL_ROOT_PASSWORD: rootpw-2026 MYSQL_DATABASE: shop", ["rootpw-2026"], []),
    ("credentials=svcuser:svcpass-4321 accepted by ldap", ["svcuser:svcpass-4321"], []),
]

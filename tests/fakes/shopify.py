"""A loopback fake Shopify: OAuth token endpoint (expiring tokens, refresh rotation, token exchange) and the
Admin GraphQL endpoint (cost extensions, leaky bucket, paging, webhook subscriptions, fulfillment events)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import jwt

from tests.fakes.http import FakeService, Request, Response, route

API_VERSION = "2026-10"
_BASE_TIME = datetime(2026, 9, 1, tzinfo=timezone.utc)
_SHOP_TZ = timezone(timedelta(hours=2))  # REST payloads carry the shop's offset, GraphQL says Z
_COMPANIES = ("DHL Express", "UPS", "Deutsche Post", "Acme Freight", "DPD", "Royal Mail")
_EVENT_STATUSES = {"ATTEMPTED_DELIVERY", "CARRIER_PICKED_UP", "CONFIRMED", "DELAYED", "DELIVERED", "FAILURE",
                   "IN_TRANSIT", "LABEL_PRINTED", "LABEL_PURCHASED", "OUT_FOR_DELIVERY", "PICKED_UP",
                   "READY_FOR_PICKUP"}
_TOPICS = {"RETURNS_REQUEST", "RETURNS_APPROVE", "RETURNS_UPDATE", "RETURNS_PROCESS", "RETURNS_CLOSE", "RETURNS_CANCEL",
           "RETURNS_DECLINE", "RETURNS_REOPEN", "REVERSE_DELIVERIES_ATTACH_DELIVERABLE", "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_DELETE", "FULFILLMENTS_CREATE",
           "FULFILLMENTS_UPDATE", "APP_UNINSTALLED"}


class FakeClock:
    """Shared by the fake's leaky bucket and the client's injected sleep, so tests never really wait."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)


def _z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(moment: datetime) -> str:
    return moment.astimezone(_SHOP_TZ).isoformat()


def _num(gid: str) -> int:
    return int(gid.rsplit("/", 1)[-1])


def sign_webhook(body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 header Shopify sends with `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def generate_orders(count: int, *, shop: str) -> list[dict[str, Any]]:
    """`count` orders in the Admin GraphQL shape the sync query selects (deterministic)."""
    orders = []
    tracking_serial = 0
    for i in range(count):
        created = _BASE_TIME + timedelta(minutes=7 * i)
        order_gid = f"gid://shopify/Order/{5_000_000 + i}"
        line_items = []
        for j in range(1 + i % 3):
            line_items.append({
                "id": f"gid://shopify/LineItem/{7_000_000 + i * 10 + j}",
                "title": f"Trail Sock {j + 1}",
                "sku": f"SOCK-{j + 1}" if j != 2 else "",
                "quantity": 1 + j,
                "variantTitle": "M / Blue" if j == 0 else None,
                "originalUnitPriceSet": {"shopMoney": {"amount": f"{12 + j}.95", "currencyCode": "EUR"}},
                "image": {"url": f"https://cdn.shopify.com/s/files/1/sock-{j + 1}.jpg"} if j != 1 else None,
                "product": {"onlineStoreUrl": f"https://{shop}/products/trail-sock-{j + 1}"} if j != 1 else None,
            })
        fulfillments = []
        for k in range(i % 3):
            numbers = 2 if (i % 10 == 4 and k == 0) else 1
            infos = []
            for _ in range(numbers):
                tracking_serial += 1
                company = _COMPANIES[(i + k) % len(_COMPANIES)]
                number = f"TRK{tracking_serial:08d}"
                infos.append({"number": number, "company": company,
                              "url": f"https://track.example.com/{number}"})
            fulfilled = created + timedelta(hours=20 + k)
            fulfillments.append({
                "id": f"gid://shopify/Fulfillment/{9_000_000 + i * 10 + k}",
                "status": "SUCCESS",
                "createdAt": _z(fulfilled),
                "updatedAt": _z(fulfilled),
                "trackingInfo": infos,
                "fulfillmentLineItems": {"nodes": [{"lineItem": {"id": line_items[k]["id"]}}]},
            })
        updated = created + timedelta(hours=20 + len(fulfillments))
        orders.append({
            "id": order_gid,
            "name": f"#{1001 + i}",
            "createdAt": _z(created),
            "updatedAt": _z(updated),
            "cancelledAt": _z(updated) if i % 50 == 49 else None,
            "email": f"shopper{i}@example.com",
            "phone": "+4915112345678" if i % 2 else None,
            "customerLocale": "de" if i % 2 else "en",
            "statusPageUrl": f"https://{shop}/73/orders/{uuid.UUID(int=i).hex}/authenticate?key=k{i}",
            "currencyCode": "EUR",
            "totalPriceSet": {"shopMoney": {"amount": f"{40 + i % 20}.90", "currencyCode": "EUR"}},
            "customer": {"id": f"gid://shopify/Customer/{8_000_000 + i}", "firstName": "Ada",
                         "lastName": f"Lovelace{i}"},
            "shippingAddress": {"firstName": "Ada", "lastName": f"Lovelace{i}", "city": "Berlin",
                                "zip": f"10{i % 1000:03d}", "countryCodeV2": "DE"},
            "billingAddress": {"firstName": "Ada", "lastName": f"Lovelace{i}"},
            "lineItems": {"pageInfo": {"hasNextPage": False}, "nodes": line_items},
            "fulfillments": fulfillments,
        })
    return orders


def rest_order(node: dict[str, Any]) -> dict[str, Any]:
    """The same order as Shopify's REST webhook body (orders/create, orders/updated) would carry it."""
    order_id = _num(node["id"])
    items_by_gid = {li["id"]: li for li in node["lineItems"]["nodes"]}

    def rest_item(li: dict[str, Any]) -> dict[str, Any]:
        return {"id": _num(li["id"]), "admin_graphql_api_id": li["id"], "title": li["title"],
                "name": f"{li['title']} - {li['variantTitle']}" if li["variantTitle"] else li["title"],
                "sku": li["sku"], "quantity": li["quantity"], "variant_title": li["variantTitle"],
                "price": li["originalUnitPriceSet"]["shopMoney"]["amount"], "product_id": 632910392,
                "variant_id": 39072856, "requires_shipping": True, "fulfillment_service": "manual",
                "properties": [], "grams": 200, "vendor": None}

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    fulfillments = []
    for f in node["fulfillments"]:
        infos = f["trackingInfo"]
        fulfillments.append({
            "id": _num(f["id"]), "admin_graphql_api_id": f["id"], "order_id": order_id,
            "status": f["status"].lower(), "service": "manual", "shipment_status": None,
            "created_at": _local(parse(f["createdAt"])), "updated_at": _local(parse(f["updatedAt"])),
            "tracking_company": infos[0]["company"] if infos else None,
            "tracking_number": infos[0]["number"] if infos else None,
            "tracking_numbers": [t["number"] for t in infos],
            "tracking_url": infos[0]["url"] if infos else None,
            "tracking_urls": [t["url"] for t in infos],
            "name": f"{node['name']}.{len(fulfillments) + 1}",
            "line_items": [rest_item(items_by_gid[n["lineItem"]["id"]]) for n in f["fulfillmentLineItems"]["nodes"]],
        })
    ship = node["shippingAddress"]
    return {
        "id": order_id, "admin_graphql_api_id": node["id"], "name": node["name"],
        "order_number": int(node["name"].lstrip("#")), "number": int(node["name"].lstrip("#")) - 1000,
        "created_at": _local(parse(node["createdAt"])), "updated_at": _local(parse(node["updatedAt"])),
        "processed_at": _local(parse(node["createdAt"])),
        "cancelled_at": _local(parse(node["cancelledAt"])) if node["cancelledAt"] else None,
        "cancel_reason": "customer" if node["cancelledAt"] else None,
        "email": node["email"], "contact_email": node["email"], "phone": node["phone"],
        "customer_locale": node["customerLocale"], "order_status_url": node["statusPageUrl"],
        "currency": node["currencyCode"], "presentment_currency": node["currencyCode"],
        "total_price": node["totalPriceSet"]["shopMoney"]["amount"], "financial_status": "paid",
        "fulfillment_status": "fulfilled" if node["fulfillments"] else None, "test": False,
        "customer": {"id": _num(node["customer"]["id"]), "email": node["email"], "phone": node["phone"],
                     "first_name": node["customer"]["firstName"], "last_name": node["customer"]["lastName"],
                     "state": "disabled", "verified_email": True, "tags": "", "currency": "EUR"},
        "shipping_address": {"first_name": ship["firstName"], "last_name": ship["lastName"],
                             "address1": "Chausseestr. 1", "address2": "", "city": ship["city"], "zip": ship["zip"],
                             "country": "Germany", "country_code": ship["countryCodeV2"], "province": None,
                             "province_code": None, "phone": None, "company": None,
                             "name": f"{ship['firstName']} {ship['lastName']}"},
        "billing_address": None,
        "line_items": [rest_item(li) for li in node["lineItems"]["nodes"]],
        "fulfillments": fulfillments,
        "shipping_lines": [{"code": "Standard", "price": "4.90", "source": "shopify", "title": "Standard"}],
    }


class FakeShopify(FakeService):
    """One shop's OAuth and Admin GraphQL endpoints on 127.0.0.1. Point clients at it with
    `admin_base_url_template=fake.base_url` (the template has no `{shop}`: every shop lands here)."""

    def __init__(self, *, shop: str = "parcel-test.myshopify.com", api_key: str = "test-api-key",
                 secret: str = "shpss_fake0123456789abcdef0123456789abcdef", orders: int = 0, clock: Callable[[], float] | None = None,
                 bucket_max: float = 1000.0, restore_rate: float = 50.0, cost_per_order: int = 5,
                 access_token_ttl: int = 3600, refresh_token_ttl: int = 90 * 86400) -> None:
        super().__init__()
        self.shop = shop
        self.api_key = api_key
        self.secret = secret
        self.clock = clock or time.monotonic
        self.bucket_max = bucket_max
        self.restore_rate = restore_rate
        self.cost_per_order = cost_per_order
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.orders = generate_orders(orders, shop=shop)
        self.codes: dict[str, bool] = {}  # code -> used
        self.access_tokens: dict[str, float | None] = {}  # token -> expiry on self.clock (None: never)
        self.refresh_tokens: dict[str, bool] = {}  # token -> used
        self.subscriptions: list[dict[str, Any]] = []
        self.fulfillment_events: list[dict[str, Any]] = []
        self.returns: dict[str, dict[str, Any]] = {}  # return gid -> the GraphQL `Return` node
        self.throttled_answers = 0
        self.graphql_versions: set[str] = set()
        self._available = bucket_max
        self._bucket_at = self.clock()
        self._state_lock = threading.Lock()

    # -- helpers for tests ---------------------------------------------------------------------------------

    def issue_code(self) -> str:
        code = secrets.token_hex(16)
        self.codes[code] = False
        return code

    def issue_access_token(self, *, ttl: float | None = None) -> str:
        token = "shpat_" + secrets.token_hex(16)
        self.access_tokens[token] = None if ttl is None else self.clock() + ttl
        return token

    def signed_callback(self, *, code: str, state: str, timestamp: int | None = None,
                        secret: str | None = None) -> dict[str, str]:
        """The query string Shopify redirects the merchant back with after approving the app."""
        params = {"code": code, "host": base64.b64encode(f"admin.shopify.com/store/{self.shop}".encode()).decode(),
                  "shop": self.shop, "state": state, "timestamp": str(timestamp or int(time.time()))}
        message = "&".join(f"{k}={params[k]}" for k in sorted(params))
        params["hmac"] = hmac.new((secret or self.secret).encode(), message.encode(), hashlib.sha256).hexdigest()
        return params

    def session_token(self, **overrides: Any) -> str:
        """An App Bridge session token for this shop (override any claim, or `secret`)."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": f"https://{self.shop}/admin", "dest": f"https://{self.shop}",
                                  "aud": self.api_key, "sub": "42", "exp": now + 60, "nbf": now - 5,
                                  "iat": now - 5, "jti": str(uuid.uuid4()), "sid": secrets.token_hex(8)}
        secret = overrides.pop("secret", self.secret)
        claims.update(overrides)
        return jwt.encode(claims, secret, algorithm="HS256")

    def throttle_next(self, *, times: int = 1, requested: int = 252, available: int = 2) -> None:
        """Answer the next GraphQL calls with Shopify's THROTTLED error (HTTP 200)."""
        body = {"errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/limits#rate-limits"}}],
                "extensions": {"cost": self._cost(requested, None, available)}}
        self.fail_next(Response.json(body), times=times, path="/admin/api/{version}/graphql.json")

    def rate_limit_next(self, *, retry_after: float = 2.0, times: int = 1) -> None:
        self.fail_next(Response.json({"errors": "Exceeded 2 calls per second for api client. Reduce request rates "
                                                "to resume uninterrupted service."},
                                     status=429, headers={"Retry-After": str(retry_after)}),
                       times=times, path="/admin/api/{version}/graphql.json")

    def webhook_body(self, topic: str, index: int = 0) -> bytes:
        """A webhook body for `topic` about generated order `index`, in Shopify's REST shape."""
        order = rest_order(self.orders[index])
        if topic.startswith("fulfillments/"):
            return json.dumps(order["fulfillments"][0]).encode()
        return json.dumps(order).encode()

    # -- OAuth ---------------------------------------------------------------------------------------------

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return Response.json({"error": error, "error_description": description}, status=status)

    def _issue(self, *, expiring: bool) -> Response:
        with self._state_lock:
            access = "shpat_" + secrets.token_hex(16)
            if not expiring:
                self.access_tokens[access] = None
                return Response.json({"access_token": access, "scope": "read_orders,write_fulfillments"})
            # Only one expiring offline token per app and shop: a new one revokes the older ones.
            for token, expiry in list(self.access_tokens.items()):
                if expiry is not None:
                    del self.access_tokens[token]
            self.access_tokens[access] = self.clock() + self.access_token_ttl
            refresh = "shprt_" + secrets.token_hex(16)
            self.refresh_tokens[refresh] = False
        return Response.json({"access_token": access, "scope": "read_orders,write_fulfillments",
                              "expires_in": self.access_token_ttl, "refresh_token": refresh,
                              "refresh_token_expires_in": self.refresh_token_ttl})

    @route("POST", "/admin/oauth/access_token")
    def access_token(self, request: Request) -> Response:
        content_type = request.header("content-type", "") or ""
        body = request.json() if "json" in content_type else request.form()
        if not isinstance(body, dict):
            return self._oauth_error("invalid_request", "body must be an object")
        if body.get("client_id") != self.api_key or body.get("client_secret") != self.secret:
            return self._oauth_error("invalid_client", "Client authentication failed", status=401)
        expiring = str(body.get("expiring", "0")) == "1"
        grant = body.get("grant_type")
        if grant is None and "code" in body:
            with self._state_lock:
                if self.codes.get(body["code"]) is not False:
                    return self._oauth_error("invalid_request",
                                             "The authorization code was not found or was already used")
                self.codes[body["code"]] = True
            return self._issue(expiring=expiring)
        if grant == "refresh_token":
            with self._state_lock:
                if self.refresh_tokens.get(str(body.get("refresh_token"))) is not False:
                    return self._oauth_error("invalid_grant", "The refresh token is invalid or was already used")
                self.refresh_tokens[str(body["refresh_token"])] = True
            return self._issue(expiring=True)
        if grant == "urn:ietf:params:oauth:grant-type:token-exchange":
            if body.get("requested_token_type") != "urn:shopify:params:oauth:token-type:offline-access-token" \
                    or body.get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token":
                return self._oauth_error("invalid_request", "unsupported token types")
            try:
                jwt.decode(str(body.get("subject_token")), self.secret, algorithms=["HS256"], audience=self.api_key)
            except jwt.PyJWTError:
                return self._oauth_error("invalid_subject_token", "The subject token is invalid")
            return self._issue(expiring=expiring)
        return self._oauth_error("unsupported_grant_type", f"grant {grant!r} is not supported")

    # -- GraphQL -------------------------------------------------------------------------------------------

    def _cost(self, requested: float, actual: float | None, available: float) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": self.bucket_max, "currentlyAvailable": available,
                                   "restoreRate": self.restore_rate}}

    def _admit(self, requested: float) -> tuple[bool, float]:
        """The leaky bucket: refill by elapsed time, refuse when the query's requested cost is not there."""
        with self._state_lock:
            now = self.clock()
            self._available = min(self.bucket_max, self._available + (now - self._bucket_at) * self.restore_rate)
            self._bucket_at = now
            if requested > self._available:
                self.throttled_answers += 1
                return False, self._available
            return True, self._available

    def _charge(self, actual: float) -> float:
        """Shopify reserves the requested cost up front and refunds the difference to the actual one."""
        with self._state_lock:
            self._available -= actual
            return self._available

    @route("POST", "/admin/api/{version}/graphql.json")
    def graphql(self, request: Request) -> Response:
        self.graphql_versions.add(request.path_params["version"])
        token = request.header("x-shopify-access-token")
        expiry = self.access_tokens.get(token or "", -1.0)
        if token not in self.access_tokens or (expiry is not None and expiry <= self.clock()):
            return Response.json({"errors": "[API] Invalid API key or access token (unrecognized login or "
                                            "wrong password)"}, status=401)
        body = request.json()
        query = str(body.get("query", ""))
        variables = body.get("variables") or {}
        if "webhookSubscriptionCreate" in query:
            handler, requested = self._webhook_create, 10.0
        elif "fulfillmentEventCreate" in query:
            handler, requested = self._fulfillment_event_create, 10.0
        elif "webhookSubscriptions" in query:
            handler, requested = self._webhook_list, 12.0
        elif re.search(r"\breturn\s*\(", query):
            handler, requested = self._return, 5.0
        elif re.search(r"\borders\s*\(", query):
            handler, requested = self._orders, 2.0 + int(variables.get("first", 0)) * self.cost_per_order
        else:
            return Response.json({"errors": [{"message": "fake Shopify does not know this query"}]})
        ok, available = self._admit(requested)
        if not ok:
            return Response.json({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/limits#rate-limits"}}],
                "extensions": {"cost": self._cost(requested, None, int(available))}})
        data, actual = handler(query, variables)
        spent = actual if actual is not None else requested
        left = self._charge(spent)
        return Response.json({"data": data, "extensions": {"cost": self._cost(requested, spent, int(left))}})

    def _return(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
        return {"return": self.returns.get(str(variables.get("id")))}, 3.0

    def add_return(self, *, return_id: int, order_id: int, line_item_id: int, tracking_number: str | None,
                   carrier: str = "DHL Express", delivery_id: int = 1) -> dict[str, Any]:
        """A return in the GraphQL shape; `tracking_number=None` is a return requested but without a label yet."""
        deliveries = [] if tracking_number is None else [{
            "id": f"gid://shopify/ReverseDelivery/{delivery_id}",
            "deliverable": {"tracking": {"number": tracking_number, "url": None, "carrierName": carrier},
                            "label": {"createdAt": "2026-11-22T09:30:00Z"}}}]
        node = {"id": f"gid://shopify/Return/{return_id}", "status": "OPEN", "order": {"id": f"gid://shopify/Order/{order_id}"},
                "returnLineItems": {"nodes": [{"fulfillmentLineItem": {"lineItem": {"id": f"gid://shopify/LineItem/{line_item_id}"}}}]},
                "reverseFulfillmentOrders": {"nodes": [{"reverseDeliveries": {"nodes": deliveries}}]}}
        self.returns[node["id"]] = node
        return node

    def _orders(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], float]:
        search = str(variables.get("query") or "")
        selected = self.orders
        for field, key in (("updated_at", "updatedAt"), ("created_at", "createdAt")):
            match = re.search(rf"{field}:>='([^']+)'", search)
            if match:
                since = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
                selected = [o for o in selected if datetime.fromisoformat(o[key].replace("Z", "+00:00")) >= since]
        by_id = re.search(r"\bid:(\d+)", search)
        if by_id:
            selected = [o for o in selected if _num(o["id"]) == int(by_id.group(1))]
        selected = sorted(selected, key=lambda o: (o["updatedAt"], _num(o["id"])))
        after = variables.get("after")
        if after:
            cursor = tuple(json.loads(base64.b64decode(after)))
            selected = [o for o in selected if (o["updatedAt"], _num(o["id"])) > cursor]
        first = int(variables.get("first") or 50)
        page = selected[:first]
        with_customer = re.search(r"\bcustomer\s*\{", query) is not None
        nodes = [o if with_customer else {k: v for k, v in o.items() if k != "customer"} for o in page]
        end = base64.b64encode(json.dumps([page[-1]["updatedAt"], _num(page[-1]["id"])]).encode()).decode() \
            if page else None
        data = {"orders": {"pageInfo": {"hasNextPage": len(selected) > first, "endCursor": end}, "nodes": nodes}}
        return data, 2.0 + len(page) * (self.cost_per_order - 1)

    def _webhook_create(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], None]:
        topic = variables.get("topic")
        uri = (variables.get("webhookSubscription") or {}).get("uri")
        errors = []
        if topic not in _TOPICS:
            errors.append({"field": ["topic"], "message": f"Topic {topic} is not supported"})
        elif not isinstance(uri, str) or not uri.startswith("https://"):
            errors.append({"field": ["webhookSubscription", "uri"], "message": "Address protocol is not supported"})
        elif any(s["topic"] == topic and s["uri"] == uri for s in self.subscriptions):
            errors.append({"field": ["webhookSubscription", "uri"],
                           "message": "Address for this topic has already been taken"})
        if errors:
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": errors}}, None
        subscription = {"id": f"gid://shopify/WebhookSubscription/{len(self.subscriptions) + 1}",
                        "topic": topic, "uri": uri}
        self.subscriptions.append(subscription)
        return {"webhookSubscriptionCreate": {"webhookSubscription": subscription, "userErrors": []}}, None

    def _webhook_list(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], None]:
        first = int(variables.get("first") or 50)
        start = int(variables["after"]) if variables.get("after") else 0
        page = self.subscriptions[start:start + first]
        more = start + first < len(self.subscriptions)
        return {"webhookSubscriptions": {"pageInfo": {"hasNextPage": more, "endCursor": str(start + first)},
                                         "nodes": page}}, None

    def _fulfillment_event_create(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], None]:
        event = dict(variables.get("fulfillmentEvent") or {})
        known = {f["id"] for o in self.orders for f in o["fulfillments"]}
        errors = []
        if event.get("fulfillmentId") not in known:
            errors.append({"field": ["fulfillmentEvent", "fulfillmentId"], "message": "Fulfillment does not exist."})
        if event.get("status") not in _EVENT_STATUSES:
            errors.append({"field": ["fulfillmentEvent", "status"], "message": "Status is invalid"})
        if errors:
            return {"fulfillmentEventCreate": {"fulfillmentEvent": None, "userErrors": errors}}, None
        self.fulfillment_events.append(event)
        created = {"id": f"gid://shopify/FulfillmentEvent/{len(self.fulfillment_events)}",
                   "status": event["status"], "happenedAt": event.get("happenedAt"),
                   "estimatedDeliveryAt": event.get("estimatedDeliveryAt")}
        return {"fulfillmentEventCreate": {"fulfillmentEvent": created, "userErrors": []}}, None

"""A loopback fake WooCommerce site: WC Auth key grant, REST v3 orders with paging headers, webhooks CRUD (with
the `disabled` status), order notes, the Shipment Tracking / AST endpoints, OAuth 1.0a or Basic auth, and errors
in WooCommerce's `{code, message, data: {status}}` shape."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from tests.fakes.http import FakeService, Request, Response, route

SITE_TZ = timezone(timedelta(hours=1))  # the shop's local time; `*_gmt` fields are UTC
BASE_TIME = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
PRODUCTS = (("Merino Beanie", "MB-1", "29.90"), ("Trail Socks", "", "14.50"), ("Canvas Tote", "CT-7", "65.00"))
WEBHOOK_TOPICS = {"order.created", "order.updated", "order.deleted", "order.restored", "product.created",
                  "product.updated", "product.deleted", "customer.created", "customer.updated", "customer.deleted",
                  "coupon.created", "coupon.updated", "coupon.deleted", "action.woocommerce_order_status_completed"}
USER_AGENT = "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"


def wc_error(code: str, message: str, status: int) -> Response:
    return Response.json({"code": code, "message": message, "data": {"status": status}}, status=status)


def not_found_page() -> Response:
    return Response.text("<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>", status=404,
                         content_type="text/html")


def _local(moment: datetime) -> str:
    return moment.astimezone(SITE_TZ).replace(tzinfo=None).isoformat(timespec="seconds")


def _gmt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _rawurlencode(text: str) -> str:
    return quote(text, safe="-_.~")


def oauth_signature(*, method: str, url: str, params: dict[str, str], secret: str) -> str:
    """WooCommerce's one-legged OAuth 1.0a check (HMAC-SHA256, key `secret&`), as class-wc-rest-authentication."""
    normalized = sorted((_rawurlencode(k).replace("%", "%25"), _rawurlencode(v).replace("%", "%25"))
                        for k, v in params.items() if k != "oauth_signature")
    query = "%26".join(f"{k}%3D{v}" for k, v in normalized)
    base = f"{method.upper()}&{_rawurlencode(url)}&{query}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()).decode()


class FakeWooCommerce(FakeService):
    """One WordPress + WooCommerce site on 127.0.0.1. Flags model the real failure modes: `pretty_permalinks`
    off (/wp-json answers a 404 page), `woocommerce_active` off (rest_no_route), and which tracking plugin is
    active (`tracking_plugin`: "shipment_tracking", "ast", "aftership" or None)."""

    def __init__(self, *, orders: int = 0, tracking_plugin: str | None = "shipment_tracking",
                 now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.pretty_permalinks = True
        self.woocommerce_active = True
        self.tracking_plugin = tracking_plugin
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.keys: dict[str, dict[str, Any]] = {}  # consumer_key -> {secret, permissions, key_id, user_id}
        self.hidden_tracking: dict[int, list[dict[str, Any]]] = {}  # tracking kept out of meta (endpoint only)
        self._ids = iter(range(10_000, 10_000_000))
        self._state = threading.Lock()
        self._initial_orders = orders

    def start(self) -> FakeWooCommerce:
        super().start()
        for i in range(self._initial_orders):  # links in orders need the site's address: made once it runs
            self.add_order(created=BASE_TIME + timedelta(minutes=9 * i))
        self._initial_orders = 0
        return self

    # -- test helpers ----------------------------------------------------------------------------------------

    @property
    def home_url(self) -> str:
        return f"{self.base_url}/"

    def issue_key(self, *, permissions: str = "read_write") -> tuple[str, str]:
        key, secret = f"ck_{secrets.token_hex(20)}", f"cs_{secrets.token_hex(20)}"
        self.keys[key] = {"secret": secret, "permissions": permissions, "key_id": len(self.keys) + 1}
        return key, secret

    def add_order(self, *, created: datetime | None = None, status: str = "processing", email: str | None = None,
                  items: int | None = None) -> dict[str, Any]:
        with self._state:
            order_id = 700 + len(self.orders) * 3 + 1
            created = created or self.now()
            n = items or 1 + order_id % 3
            lines = []
            for j in range(n):
                name, sku, price = PRODUCTS[(order_id + j) % len(PRODUCTS)]
                quantity = 1 + j % 2
                lines.append({
                    "id": order_id * 10 + j, "name": name, "product_id": 90 + j, "variation_id": 0,
                    "quantity": quantity, "tax_class": "", "subtotal": f"{float(price) * quantity:.2f}",
                    "subtotal_tax": "0.00", "total": f"{float(price) * quantity:.2f}", "total_tax": "0.00",
                    "taxes": [], "meta_data": [{"id": 2000 + j, "key": "pa_color", "value": "black",
                                                "display_key": "Color", "display_value": "Black"}] if j == 0 else [],
                    "sku": sku, "price": float(price),
                    "image": {"id": 50 + j, "src": f"{self.base_url}/wp-content/uploads/{name.split()[0].lower()}.jpg"},
                    "parent_name": None,
                })
            total = sum(float(li["total"]) for li in lines) + 4.90
            order = {
                "id": order_id, "parent_id": 0, "number": str(order_id), "order_key": f"wc_order_{secrets.token_hex(6)}",
                "created_via": "checkout", "version": "9.4.2", "status": status, "currency": "EUR",
                "date_created": _local(created), "date_created_gmt": _gmt(created),
                "date_modified": _local(created), "date_modified_gmt": _gmt(created),
                "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "4.90", "shipping_tax": "0.00",
                "cart_tax": "0.00", "total": f"{total:.2f}", "total_tax": "0.00", "prices_include_tax": True,
                "customer_id": 0 if order_id % 2 else 40 + order_id % 7, "customer_ip_address": "",
                "customer_user_agent": "", "customer_note": "",
                "billing": {"first_name": "Anna", "last_name": f"Schmidt{order_id}", "company": "",
                            "address_1": "Jungfernstieg 1", "address_2": "", "city": "Hamburg", "state": "",
                            "postcode": "20095", "country": "DE", "email": email or f"anna{order_id}@example.com",
                            "phone": "+49 151 23456789"},
                "shipping": {"first_name": "Anna", "last_name": f"Schmidt{order_id}", "company": "",
                             "address_1": "Jungfernstieg 1", "address_2": "", "city": "Hamburg", "state": "",
                             "postcode": "20095", "country": "DE", "phone": ""},
                "payment_method": "bacs", "payment_method_title": "Direct Bank Transfer", "transaction_id": "",
                "date_paid": _local(created), "date_paid_gmt": _gmt(created), "date_completed": None,
                "date_completed_gmt": None, "cart_hash": "",
                "meta_data": [{"id": 13106, "key": "_download_permissions_granted", "value": "yes"},
                              {"id": 13107, "key": "wpml_language", "value": "de"}],
                "line_items": lines, "tax_lines": [],
                "shipping_lines": [{"id": order_id * 10 + 9, "method_title": "Flat Rate", "method_id": "flat_rate",
                                    "total": "4.90", "total_tax": "0.00", "taxes": [], "meta_data": []}],
                "fee_lines": [], "coupon_lines": [], "refunds": [],
                "_links": {"self": [{"href": f"{self.base_url}/wp-json/wc/v3/orders/{order_id}"}],
                           "collection": [{"href": f"{self.base_url}/wp-json/wc/v3/orders"}]},
            }
            self.orders[order_id] = order
            return order

    def _touch(self, order: dict[str, Any], at: datetime | None = None) -> None:
        moment = at or self.now()
        order["date_modified"], order["date_modified_gmt"] = _local(moment), _gmt(moment)

    def add_tracking(self, order_id: int, *, number: str, provider: str, plugin: str | None = None,
                     shipped: datetime | None = None, is_return: bool = False, in_meta: bool = True,
                     modified: datetime | None = None) -> dict[str, Any]:
        """Attach a tracking number the way the given plugin stores it (default: the active plugin)."""
        plugin = plugin or self.tracking_plugin or "shipment_tracking"
        shipped = shipped or self.now()
        order = self.orders[order_id]
        tracking_id = hashlib.md5(f"{number}{provider}{order_id}".encode()).hexdigest()
        if plugin == "aftership":
            key = "_aftership_tracking_items"
            item: dict[str, Any] = {
                "tracking_id": tracking_id[:24], "tracking_number": number, "slug": provider,
                "additional_fields": {"account_number": "", "key": "", "postal_code": "", "ship_date": shipped.strftime("%Y%m%d"),
                                      "destination_country": "DEU", "state": ""},
                "line_items": [{"id": order["line_items"][0]["id"], "quantity": 1}],
                "metrics": {"created_at": shipped.isoformat(), "updated_at": shipped.isoformat()},
            }
        else:
            key = "_wc_shipment_tracking_items"
            item = {"tracking_provider": provider, "custom_tracking_provider": "", "custom_tracking_link": "",
                    "tracking_number": number, "date_shipped": str(int(shipped.timestamp())), "tracking_id": tracking_id}
            if plugin == "ast":
                item.update(formatted_tracking_provider=provider.upper(), tracking_product_code="",
                            status_shipped="1", products_list=[{"product": order["line_items"][0]["product_id"],
                                                                "item_id": order["line_items"][0]["id"], "qty": 1}])
        if is_return:
            item["is_return"] = True
        with self._state:
            if in_meta:
                entry = next((m for m in order["meta_data"] if m["key"] == key), None)
                if entry is None:
                    entry = {"id": 20_000 + len(order["meta_data"]) + order_id, "key": key, "value": []}
                    order["meta_data"].append(entry)
                entry["value"].append(item)
            else:
                self.hidden_tracking.setdefault(order_id, []).append(item)
            order["status"] = "completed"
            order["date_completed"], order["date_completed_gmt"] = _local(shipped), _gmt(shipped)
            self._touch(order, modified or shipped)
        return item

    def delivery(self, order_id: int, *, topic: str = "order.updated", webhook_id: int | None = None,
                 secret: str | None = None, delivery_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers WooCommerce would POST for `topic` (signed with the webhook's secret)."""
        if webhook_id is None:
            webhook_id = next((h["id"] for h in self.webhooks.values() if h["topic"] == topic), 0)
        hook = self.webhooks.get(webhook_id, {})
        payload = {"id": order_id} if topic.endswith(".deleted") else self.orders[order_id]
        body = json.dumps(payload).encode()
        signing = secret if secret is not None else hook.get("_secret", "")
        resource, event = topic.split(".", 1)
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "X-WC-Webhook-Source": self.home_url,
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": base64.b64encode(hmac.new(signing.encode(), body, hashlib.sha256).digest()).decode(),
            "X-WC-Webhook-ID": str(webhook_id), "X-WC-Webhook-Delivery-ID": delivery_id or secrets.token_hex(16),
        }
        return body, headers

    def ping(self, webhook_id: int) -> tuple[bytes, dict[str, str]]:
        """What WooCommerce sends when a webhook is saved: unsigned, form-encoded."""
        return f"webhook_id={webhook_id}".encode(), {"Content-Type": "application/x-www-form-urlencoded",
                                                     "User-Agent": USER_AGENT}

    def record_failures(self, webhook_id: int, count: int) -> None:
        """Failed deliveries: more than 5 in a row disable the webhook, as WooCommerce does."""
        hook = self.webhooks[webhook_id]
        hook["_failures"] = hook.get("_failures", 0) + count
        if hook["_failures"] > 5:
            hook["status"] = "disabled"

    # -- WC Auth -----------------------------------------------------------------------------------------------

    @staticmethod
    def _auth_error(message: str) -> Response:
        return Response.text(f"<html><body><h1>Error</h1><p>{message}</p></body></html>", status=400,
                             content_type="text/html")

    @route("GET", "/wc-auth/v1/authorize")
    def authorize(self, request: Request) -> Response:
        missing = [p for p in ("app_name", "scope", "user_id", "return_url", "callback_url") if not request.arg(p)]
        if missing:
            return self._auth_error(f"Missing parameter {missing[0]}")
        if request.arg("scope") not in ("read", "write", "read_write"):
            return self._auth_error(f"Invalid scope {request.arg('scope')}")
        if not str(request.arg("callback_url")).lower().startswith("https://"):
            return self._auth_error("The callback_url needs to be over SSL")
        return Response.text(f"<html><body><h1>{request.arg('app_name')} would like to connect to your store"
                             "</h1><form method='post'><button>Approve</button></form></body></html>",
                             content_type="text/html")

    def approve(self, authorize_url: str, *, post: Callable[[str, bytes], int]) -> str:
        """The merchant clicks Approve: a key is created and POSTed to callback_url (which must answer 200);
        returns where the browser is sent next. A non-200 callback is WooCommerce's error page (ValueError)."""
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        key, secret = self.issue_key(permissions=params["scope"])
        body = json.dumps({"key_id": self.keys[key]["key_id"], "user_id": params["user_id"], "consumer_key": key,
                           "consumer_secret": secret, "key_permissions": params["scope"]}).encode()
        status = post(params["callback_url"], body)
        if status != 200:
            del self.keys[key]  # WooCommerce deletes the key when the callback fails
            raise ValueError("An error occurred in the request and at the time were unable to send the consumer data")
        return self._return_to(params, success=1)

    def deny(self, authorize_url: str) -> str:
        params = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        return self._return_to(params, success=0)

    @staticmethod
    def _return_to(params: dict[str, str], *, success: int) -> str:
        sep = "&" if "?" in params["return_url"] else "?"
        return f"{params['return_url']}{sep}{urlencode({'success': success, 'user_id': params['user_id']})}"

    # -- REST plumbing -----------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/wp-json") and not self.pretty_permalinks:
            with self._state:
                self.requests.append(request)
            return not_found_page()
        if request.path.startswith("/wp-json/wc/v3") and not self.woocommerce_active:
            with self._state:
                self.requests.append(request)
            return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)
        return super().dispatch(request)

    def _authenticate(self, request: Request, *, write: bool = False) -> Response | None:
        key = secret = None
        auth = request.header("Authorization") or ""
        if auth.startswith("Basic "):
            key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            record = self.keys.get(key)
            if record is None or not hmac.compare_digest(record["secret"], secret):
                return wc_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        elif request.arg("oauth_consumer_key"):
            key = request.arg("oauth_consumer_key")
            record = self.keys.get(key or "")
            if record is None:
                return wc_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
            params = {k: v[-1] for k, v in request.query.items()}
            expected = oauth_signature(method=request.method, url=f"{self.base_url}{request.path}", params=params,
                                       secret=record["secret"])
            if not hmac.compare_digest(expected, request.arg("oauth_signature") or ""):
                return wc_error("woocommerce_rest_authentication_error",
                                "Invalid signature - provided signature does not match.", 401)
        else:
            return wc_error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)
        if write and self.keys[key]["permissions"] == "read":
            return wc_error("woocommerce_rest_authentication_error",
                            "The API key provided does not have write permissions.", 401)
        return None

    def _paged(self, request: Request, items: list[Any]) -> Response:
        try:
            page = int(request.arg("page", "1") or 1)
            per_page = int(request.arg("per_page", "10") or 10)
        except ValueError:
            return wc_error("rest_invalid_param", "Invalid parameter(s): page", 400)
        if not 1 <= per_page <= 100:
            return wc_error("rest_invalid_param", "Invalid parameter(s): per_page", 400)
        total = len(items)
        pages = max(math.ceil(total / per_page), 1) if total else 0
        if page > max(pages, 1):
            return wc_error("rest_post_invalid_page_number",
                            "The page number requested is larger than the number of pages available.", 400)
        chunk = items[(page - 1) * per_page: page * per_page]
        return Response.json(chunk, headers={"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})

    def _index(self) -> Response:
        namespaces = ["oembed/1.0", "wp/v2", "wp-site-health/v1"]
        if self.woocommerce_active:
            namespaces += ["wc/v1", "wc/v2", "wc/v3", "wc/store/v1"]
        if self.tracking_plugin == "shipment_tracking":
            namespaces.append("wc-shipment-tracking/v3")
        elif self.tracking_plugin == "ast":
            namespaces.append("wc-ast/v3")
        return Response.json({"name": "Fake Shop", "url": self.base_url, "home": self.base_url,
                              "namespaces": namespaces, "routes": {}})

    @route("GET", "/")
    def root(self, request: Request) -> Response:
        if request.arg("rest_route") == "/":
            return self._index()
        return Response.text("<html><body>Fake Shop</body></html>", content_type="text/html")

    @route("GET", "/wp-json/")
    def index(self, request: Request) -> Response:
        return self._index()

    # -- orders ------------------------------------------------------------------------------------------------

    @route("GET", "/wp-json/wc/v3/orders")
    def list_orders(self, request: Request) -> Response:
        if (denied := self._authenticate(request)) is not None:
            return denied
        with self._state:
            orders = list(self.orders.values())
        after = request.arg("modified_after")
        if after:
            field = "date_modified_gmt" if request.arg("dates_are_gmt") == "true" else "date_modified"
            orders = [o for o in orders if o[field] > after]
        if request.arg("status"):
            orders = [o for o in orders if o["status"] == request.arg("status")]
        orderby = request.arg("orderby", "date")
        key = {"id": lambda o: o["id"], "modified": lambda o: o["date_modified_gmt"]}.get(
            orderby, lambda o: o["date_created_gmt"])
        orders.sort(key=key, reverse=request.arg("order", "desc") == "desc")
        return self._paged(request, orders)

    @route("GET", "/wp-json/wc/v3/orders/{order_id}")
    def get_order(self, request: Request) -> Response:
        if (denied := self._authenticate(request)) is not None:
            return denied
        order = self.orders.get(int(request.path_params["order_id"]))
        if order is None:
            return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return Response.json(order)

    @route("PUT", "/wp-json/wc/v3/orders/{order_id}")
    def update_order(self, request: Request) -> Response:
        if (denied := self._authenticate(request, write=True)) is not None:
            return denied
        order = self.orders.get(int(request.path_params["order_id"]))
        if order is None:
            return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        data = request.json() or {}
        with self._state:
            if "status" in data:
                order["status"] = data["status"]
                self._touch(order)
        return Response.json(order)

    @route("GET", "/wp-json/wc/v3/orders/{order_id}/notes")
    def list_notes(self, request: Request) -> Response:
        if (denied := self._authenticate(request)) is not None:
            return denied
        order_id = int(request.path_params["order_id"])
        if order_id not in self.orders:
            return wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        notes = list(reversed(self.notes.get(order_id, [])))
        kind = request.arg("type", "any")
        if kind == "customer":
            notes = [n for n in notes if n["customer_note"]]
        elif kind == "internal":
            notes = [n for n in notes if not n["customer_note"]]
        return Response.json(notes)

    @route("POST", "/wp-json/wc/v3/orders/{order_id}/notes")
    def add_note(self, request: Request) -> Response:
        if (denied := self._authenticate(request, write=True)) is not None:
            return denied
        order_id = int(request.path_params["order_id"])
        if order_id not in self.orders:
            return wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
        data = request.json() or {}
        if not data.get("note"):
            return wc_error("rest_missing_callback_param", "Missing parameter(s): note", 400)
        moment = self.now()
        note = {"id": next(self._ids), "author": "WooCommerce", "date_created": _local(moment),
                "date_created_gmt": _gmt(moment), "note": data["note"],
                "customer_note": bool(data.get("customer_note", False))}
        with self._state:
            self.notes.setdefault(order_id, []).append(note)
        return Response.json(note, status=201)

    # -- tracking plugins --------------------------------------------------------------------------------------

    def _trackings(self, request: Request, plugin: str) -> Response:
        if self.tracking_plugin != plugin:
            return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)
        if (denied := self._authenticate(request)) is not None:
            return denied
        order_id = int(request.path_params["order_id"])
        order = self.orders.get(order_id)
        if order is None:
            return wc_error("woocommerce_rest_order_invalid_id", "Order ID is invalid.", 404)
        stored = next((m["value"] for m in order["meta_data"] if m["key"] == "_wc_shipment_tracking_items"), [])
        items = []
        for raw in list(stored) + self.hidden_tracking.get(order_id, []):
            shipped = datetime.fromtimestamp(int(raw["date_shipped"]), tz=SITE_TZ).date().isoformat()
            items.append({"tracking_id": raw["tracking_id"], "tracking_provider": raw["tracking_provider"],
                          "tracking_link": f"https://track.example/{raw['tracking_number']}",
                          "tracking_number": raw["tracking_number"], "date_shipped": shipped,
                          "_links": {"up": [{"href": f"{self.base_url}/wp-json/wc/v3/orders/{order_id}"}]}})
        return Response.json(items)

    @route("GET", "/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings")
    def shipment_trackings(self, request: Request) -> Response:
        return self._trackings(request, "shipment_tracking")

    @route("GET", "/wp-json/wc-ast/v3/orders/{order_id}/shipment-trackings")
    def ast_trackings(self, request: Request) -> Response:
        return self._trackings(request, "ast")

    # -- webhooks ----------------------------------------------------------------------------------------------

    @staticmethod
    def _public(hook: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in hook.items() if not k.startswith("_")}

    @route("GET", "/wp-json/wc/v3/webhooks")
    def list_webhooks(self, request: Request) -> Response:
        if (denied := self._authenticate(request)) is not None:
            return denied
        hooks = [self._public(h) for h in sorted(self.webhooks.values(), key=lambda h: h["id"])]
        if request.arg("status") and request.arg("status") != "all":
            hooks = [h for h in hooks if h["status"] == request.arg("status")]
        return self._paged(request, hooks)

    @route("POST", "/wp-json/wc/v3/webhooks")
    def create_webhook(self, request: Request) -> Response:
        if (denied := self._authenticate(request, write=True)) is not None:
            return denied
        data = request.json() or {}
        if data.get("topic") not in WEBHOOK_TOPICS:
            return wc_error("rest_invalid_param", "Invalid parameter(s): topic", 400)
        if not str(data.get("delivery_url", "")).startswith(("http://", "https://")):
            return wc_error("rest_invalid_param", "Invalid parameter(s): delivery_url", 400)
        moment = self.now()
        hook_id = len(self.webhooks) + 1
        resource, event = data["topic"].split(".", 1)
        hook = {"id": hook_id, "name": data.get("name") or f"Webhook created on {moment:%b %d, %Y}",
                "status": data.get("status", "active"), "topic": data["topic"], "resource": resource, "event": event,
                "hooks": [f"woocommerce_{event}_{resource}"], "delivery_url": data["delivery_url"],
                "date_created": _local(moment), "date_created_gmt": _gmt(moment), "date_modified": _local(moment),
                "date_modified_gmt": _gmt(moment), "_secret": data.get("secret") or secrets.token_urlsafe(24)}
        with self._state:
            self.webhooks[hook_id] = hook
        return Response.json(self._public(hook), status=201)

    @route("PUT", "/wp-json/wc/v3/webhooks/{hook_id}")
    def update_webhook(self, request: Request) -> Response:
        if (denied := self._authenticate(request, write=True)) is not None:
            return denied
        hook = self.webhooks.get(int(request.path_params["hook_id"]))
        if hook is None:
            return wc_error("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        data = request.json() or {}
        with self._state:
            if "status" in data:
                if data["status"] not in ("active", "paused", "disabled"):
                    return wc_error("rest_invalid_param", "Invalid parameter(s): status", 400)
                hook["status"] = data["status"]
                if data["status"] == "active":
                    hook["_failures"] = 0
            if "secret" in data:
                hook["_secret"] = data["secret"]
            if "delivery_url" in data:
                hook["delivery_url"] = data["delivery_url"]
        return Response.json(self._public(hook))

    @route("DELETE", "/wp-json/wc/v3/webhooks/{hook_id}")
    def delete_webhook(self, request: Request) -> Response:
        if (denied := self._authenticate(request, write=True)) is not None:
            return denied
        hook = self.webhooks.pop(int(request.path_params["hook_id"]), None)
        if hook is None:
            return wc_error("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        return Response.json(self._public(hook))

"""Loopback fakes of DPD, GLS, Hermes, La Poste, Royal Mail and Canada Post tracking APIs, in their real shapes."""
from __future__ import annotations

import base64
import re
from typing import Any

from tests.fakes.carriers import FakeCarrier
from tests.fakes.http import Request, Response, route

SOAP = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{}</soap:Body>'
        '</soap:Envelope>')


def _quota_exceeded(fake: FakeCarrier) -> Response | None:
    return fake._count_call()


class FakeDpd(FakeCarrier):
    """LoginService.getAuth hands out tokens; ParcelLifeCycleService.getTrackingData wants one in the SOAP header."""

    credentials = ("delis-user", "delis-pass")

    @staticmethod
    def fault(code: str, message: str) -> Response:
        body = SOAP.format(f"<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Fault occured</faultstring>"
                           f"<detail><ns:authenticationFault xmlns:ns=\"http://dpd.com/common/service/types/"
                           f"Authentication/2.0\"><errorCode>{code}</errorCode><errorMessage>{message}</errorMessage>"
                           f"</ns:authenticationFault></detail></soap:Fault>")
        return Response.text(body, status=500, content_type="text/xml")

    @route("POST", "/LoginService/V2_0/")
    def login(self, request: Request) -> Response:
        text = request.body.decode()
        user = re.search(r"<delisId>(.*?)</delisId>", text)
        password = re.search(r"<password>(.*?)</password>", text)
        if (user and user.group(1), password and password.group(1)) != self.credentials:
            return self.fault("LOGIN_5", "The combination of user and password is invalid.")
        token = self.issue_token()
        return Response.text(SOAP.format(
            f'<getAuthResponse xmlns="http://dpd.com/common/service/types/LoginService/2.0"><return>'
            f"<delisId>{self.credentials[0]}</delisId><authToken>{token}</authToken></return></getAuthResponse>"),
            content_type="text/xml")

    @route("POST", "/ParcelLifeCycleService/V2_0/")
    def tracking(self, request: Request) -> Response:
        text = request.body.decode()
        token = re.search(r"<authToken>(.*?)</authToken>", text)
        if not token or token.group(1) not in self.valid_tokens:
            return self.fault("DELICOM_ERR_AUTHENTICATION", "Authentication failure, check delisId and password.")
        limited = _quota_exceeded(self)
        if limited:
            return limited
        number = re.search(r"<parcelLabelNumber>(.*?)</parcelLabelNumber>", text).group(1)  # type: ignore[union-attr]
        inner = self.tracked.get(number)
        result = f"<trackingresult>{inner}</trackingresult>" if inner else ""
        return Response.text(SOAP.format(
            f'<getTrackingDataResponse xmlns="http://dpd.com/common/service/types/ParcelLifeCycleService/2.0">'
            f"{result}</getTrackingDataResponse>"), content_type="text/xml", delay=self._delay_for([number]))


def dpd_status(status: str, date: str, *, location: str = "Aschaffenburg (DE)", text: str = "", current: bool = False,
               reached: bool = True) -> str:
    return (f"<statusInfo><status>{status}</status><label><content>{status}</content></label>"
            f"<description><content><content>{text or status}</content></content></description>"
            f"<statusHasBeenReached>{str(reached).lower()}</statusHasBeenReached>"
            f"<isCurrentStatus>{str(current).lower()}</isCurrentStatus>"
            f"<location><content>{location}</content></location><date><content>{date}</content></date></statusInfo>")


class FakeGls(FakeCarrier):
    @route("POST", "/oauth2/v2/token")
    def token(self, request: Request) -> Response:
        form = request.form()
        return self.token_response(form.get("client_id"), form.get("client_secret"))

    @route("GET", "/track-and-trace-v1/tracking/simple/trackids/{ids}")
    def track(self, request: Request) -> Response:
        if not self.bearer_ok(request):
            return Response.json({"fault": {"faultstring": "Invalid access token",
                                            "detail": {"errorcode": "oauth.v2.InvalidAccessToken"}}}, status=401)
        with self._counter:
            self.calls += 1
            if self.quota is not None and self.calls > self.quota:
                return Response.json({"fault": {"faultstring": "Rate limit quota violation. Quota limit exceeded.",
                                                "detail": {"errorcode": "policies.ratelimit.QuotaViolation"}}},
                                     status=429, headers={"Retry-After": self.retry_after})
        numbers = request.path_params["ids"].split(",")
        if len(numbers) > 10:
            return Response.json({"type": "about:blank", "title": "Bad Request", "status": 400,
                                  "detail": f"Provided references of size '{len(numbers)}' is more than allowed "
                                            f"limit of 10"}, status=400)
        parcels = [self.tracked[n] if n in self.tracked else
                   {"requested": n, "errorCode": "E_404_01", "errorMessage": "Resource Not Found"} for n in numbers]
        return Response.json({"parcels": parcels}, delay=self._delay_for(numbers))


def gls_parcel(number: str, *, status: str = "INDELIVERY", code: str = "INDELIVERY.NORMAL",
               text: str = "The parcel is expected to be delivered during the day.",
               at: str = "2026-11-23T07:12:00+0100") -> dict[str, Any]:
    return {"requested": number, "unitno": number, "status": status, "statusDateTime": at, "events": [
        {"code": code, "city": "Neuenstein", "postalCode": "36286", "country": "DE", "description": text,
         "eventDateTime": at},
        {"code": "INTIAL.NORMAL", "city": "Berlin", "postalCode": "10437", "country": "DE",
         "description": "The parcel was handed over to GLS.", "eventDateTime": "2026-11-21T10:46:14+0100"}]}


class FakeHermes(FakeCarrier):
    user = ("shop-user", "shop-pass")

    @route("POST", "/authorization-facade/oauth2/access_token")
    def token(self, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "password" or (form.get("username"), form.get("password")) != self.user:
            return Response.json({"error": "invalid_grant", "error_description": "Bad credentials"}, status=400)
        return self.token_response(form.get("client_id"), form.get("client_secret"))

    @route("GET", "/services/hsi/shipmentinfo")
    def info(self, request: Request) -> Response:
        if not self.bearer_ok(request):
            return Response.json({"error": "invalid_token"}, status=401)
        limited = _quota_exceeded(self)
        if limited:
            return limited
        number = request.arg("shipmentID") or ""
        if number not in self.tracked:
            return Response.json({"shipmentinfo": [{"shipmentID": number, "result": {
                "code": "e001", "message": "There is no information for the entered value."}}]},
                delay=self._delay_for([number]))
        return Response.json({"shipmentinfo": [self.tracked[number]]}, delay=self._delay_for([number]))


def hermes_shipment(number: str, *, code: str = "3500", text: str = "The shipment has been delivered to a neighbour.",
                    at: str = "2026-11-23T14:30:00+01:00") -> dict[str, Any]:
    return {"shipmentID": number, "status": [
        {"timestamp": "2026-11-22T08:30:00+01:00", "code": "0000", "description": "Announced electronically.",
         "scanningUnit": {"city": "Berlin", "countryCode": "DEU"}},
        {"timestamp": at, "code": code, "description": text, "scanningUnit": {"city": "Hamburg", "countryCode": "DEU"}}]}


class FakeLaPoste(FakeCarrier):
    api_key = "okapi-key"

    @route("GET", "/suivi/v2/idships/{ids}")
    def idships(self, request: Request) -> Response:
        if request.header("X-Okapi-Key") != self.api_key:
            return Response.json({"code": "UNAUTHORIZED", "message": "Invalid credentials"}, status=401)
        limited = _quota_exceeded(self)
        if limited:
            return limited
        numbers = request.path_params["ids"].split(",")
        if len(numbers) > 10:
            return Response.json({"returnCode": 400, "returnMessage": "Trop de numéros"}, status=400)
        items = [{"lang": "fr_FR", "scope": "open", "returnCode": 200, "shipment": self.tracked[n]}
                 if n in self.tracked else
                 {"lang": "fr_FR", "scope": "open", "returnCode": 404, "idShip": n,
                  "returnMessage": "Désolé, nous n'avons aucune information sur ce numéro."} for n in numbers]
        delay = self._delay_for(numbers)
        if len(items) == 1:
            return Response.json(items[0], status=items[0]["returnCode"], delay=delay)
        return Response.json(items, status=207 if any(i["returnCode"] != 200 for i in items) else 200, delay=delay)


def laposte_shipment(number: str, *, code: str = "AG1", final: bool = False,
                     text: str = "Votre colis est disponible dans votre point de retrait.") -> dict[str, Any]:
    return {"idShip": number, "product": "colissimo", "isFinal": final, "event": [
        {"code": code, "label": text, "date": "2026-11-23T11:05:00+01:00"},
        {"code": "PC1", "label": "Votre colis est entre nos mains.", "date": "2026-11-21T18:00:00+01:00"}],
        "contextData": {"originCountry": "FR", "arrivalCountry": "FR"}}


class FakeRoyalMail(FakeCarrier):
    @route("GET", "/mailpieces/v2/{number}/events")
    def events(self, request: Request) -> Response:
        if (request.header("X-IBM-Client-Id"), request.header("X-IBM-Client-Secret")) != self.client:
            return Response.json({"httpCode": "401", "httpMessage": "Unauthorized",
                                  "moreInformation": "Client id not registered."}, status=401)
        if request.header("X-Accept-RMG-Terms") != "yes":
            return Response.json({"httpCode": "400", "httpMessage": "Bad Request", "errors": [
                {"errorCode": "E0004", "errorDescription": "Failed header validation for X-Accept-RMG-Terms"}]},
                status=400)
        limited = _quota_exceeded(self)
        if limited:
            return limited
        number = request.path_params["number"]
        if number not in self.tracked:
            return Response.json({"httpCode": "404", "httpMessage": "Not Found", "errors": [
                {"errorCode": "E1142", "errorDescription": f"Barcode reference {number} isn't recognised"}]},
                status=404, delay=self._delay_for([number]))
        return Response.json({"mailPieces": self.tracked[number]}, delay=self._delay_for([number]))


def royalmail_piece(number: str, *, code: str = "EVKSP", name: str = "Delivered",
                    category: str = "DELIVERED") -> dict[str, Any]:
    return {"mailPieceId": number, "summary": {"oneDBarcode": number, "productName": "Tracked 24",
                                               "statusCategory": category, "lastEventCode": code,
                                               "lastEventDateTime": "2026-11-23T12:01:00Z"},
            "events": [{"eventCode": code, "eventName": name, "eventDateTime": "2026-11-23T12:01:00Z",
                        "locationName": "Leeds DO"},
                       {"eventCode": "EVDAV", "eventName": "Item Received", "eventDateTime": "2026-11-22T18:00:00Z",
                        "locationName": "Leeds MC"}]}


class FakeCanadaPost(FakeCarrier):
    @route("GET", "/vis/track/pin/{pin}/detail")
    def detail(self, request: Request) -> Response:
        header = request.header("Authorization") or ""
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if (user, password) != self.client:
            return Response.text('<?xml version="1.0"?><messages xmlns="http://www.canadapost.ca/ws/messages">'
                                 '<message><code>E002</code><description>AAA Authentication Failure</description>'
                                 '</message></messages>', status=401, content_type="application/vnd.cpc.track-v2+xml")
        limited = _quota_exceeded(self)
        if limited:
            return limited
        pin = request.path_params["pin"]
        if pin not in self.tracked:
            return Response.text('<?xml version="1.0"?><messages xmlns="http://www.canadapost.ca/ws/track-v2">'
                                 '<message><code>004</code><description>No Pin History</description></message>'
                                 '</messages>', status=404, content_type="application/vnd.cpc.track-v2+xml",
                                 delay=self._delay_for([pin]))
        return Response.text(self.tracked[pin], content_type="application/vnd.cpc.track-v2+xml",
                             delay=self._delay_for([pin]))


def canadapost_detail(pin: str, *, code: str = "0174", text: str = "Item out for delivery") -> str:
    return (f'<?xml version="1.0"?><tracking-detail xmlns="http://www.canadapost.ca/ws/track-v2"><pin>{pin}</pin>'
            f"<expected-delivery-date>2026-11-24</expected-delivery-date><service-name>Expedited Parcels</service-name>"
            f"<significant-events><occurrence><event-identifier>{code}</event-identifier>"
            f"<event-date>2026-11-23</event-date><event-time>08:27:43</event-time><event-time-zone>EST</event-time-zone>"
            f"<event-description>{text}</event-description><event-site>OTTAWA</event-site>"
            f"<event-province>ON</event-province></occurrence></significant-events></tracking-detail>")



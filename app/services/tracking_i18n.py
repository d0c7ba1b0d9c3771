"""The shopper's tracking page in English, German and French: plain-word statuses, labels and date formats."""
from __future__ import annotations

from datetime import date, datetime

LANGUAGES: tuple[str, ...] = ("en", "de", "fr")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français"}

# Headline and one-line explanation per status (and a few substatuses that change what the shopper should do).
STATUS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "label_created": ("Preparing your parcel", "The shipping label is ready; the carrier has not scanned the parcel yet."),
        "in_transit": ("On its way", "Your parcel is travelling through the carrier's network."),
        "in_transit:delayed": ("Delayed", "The carrier reports a delay. Your parcel is still on its way."),
        "out_for_delivery": ("Out for delivery", "Your parcel is on the delivery vehicle and arrives today."),
        "ready_for_pickup": ("Ready for pickup", "Your parcel is waiting for you. Bring your pickup code or ID."),
        "delivered": ("Delivered", "Your parcel has been delivered."),
        "delivered:neighbour": ("Delivered to a neighbour", "Your parcel was left with a neighbour."),
        "delivered:mailbox": ("Delivered to your mailbox", "Your parcel was put in your mailbox."),
        "delivered:safe_place": ("Delivered to your safe place", "Your parcel was left at your chosen safe place."),
        "delivered:parcel_locker": ("Delivered to a parcel locker", "Your parcel is in the parcel locker."),
        "failed_attempt": ("Delivery attempt failed", "The carrier could not deliver today and will try again or redirect it."),
        "exception": ("There is a problem", "The carrier reported a problem with your parcel."),
        "exception:address_issue": ("Address needs checking", "The carrier could not match the address. Please check it with the carrier."),
        "exception:customs": ("Held at customs", "Your parcel is being checked by customs."),
        "exception:weather": ("Delayed by weather", "Bad weather is delaying your parcel."),
        "returned_to_sender": ("Returning to the shop", "Your parcel is on its way back to the shop."),
        "unknown": ("Status update", "The carrier posted an update."),
    },
    "de": {
        "label_created": ("Paket wird vorbereitet", "Das Versandetikett ist erstellt; der Versanddienst hat das Paket noch nicht gescannt."),
        "in_transit": ("Unterwegs", "Dein Paket ist im Netz des Versanddienstes unterwegs."),
        "in_transit:delayed": ("Verzögert", "Der Versanddienst meldet eine Verzögerung. Dein Paket ist weiter unterwegs."),
        "out_for_delivery": ("In Zustellung", "Dein Paket ist im Zustellfahrzeug und kommt heute."),
        "ready_for_pickup": ("Bereit zur Abholung", "Dein Paket wartet auf dich. Bring deinen Abholcode oder Ausweis mit."),
        "delivered": ("Zugestellt", "Dein Paket wurde zugestellt."),
        "delivered:neighbour": ("Beim Nachbarn abgegeben", "Dein Paket wurde bei einem Nachbarn abgegeben."),
        "delivered:mailbox": ("In den Briefkasten zugestellt", "Dein Paket liegt in deinem Briefkasten."),
        "delivered:safe_place": ("Am Ablageort abgelegt", "Dein Paket liegt an deinem Wunsch-Ablageort."),
        "delivered:parcel_locker": ("In die Packstation zugestellt", "Dein Paket liegt in der Packstation."),
        "failed_attempt": ("Zustellversuch gescheitert", "Der Versanddienst konnte heute nicht zustellen und versucht es erneut."),
        "exception": ("Es gibt ein Problem", "Der Versanddienst meldet ein Problem mit deinem Paket."),
        "exception:address_issue": ("Adresse prüfen", "Die Adresse konnte nicht zugeordnet werden. Bitte prüfe sie beim Versanddienst."),
        "exception:customs": ("Beim Zoll", "Dein Paket wird vom Zoll geprüft."),
        "exception:weather": ("Wetterbedingt verzögert", "Schlechtes Wetter verzögert dein Paket."),
        "returned_to_sender": ("Zurück an den Shop", "Dein Paket ist auf dem Rückweg zum Shop."),
        "unknown": ("Neue Meldung", "Der Versanddienst hat eine neue Meldung."),
    },
    "fr": {
        "label_created": ("Colis en préparation", "L'étiquette est prête ; le transporteur n'a pas encore scanné le colis."),
        "in_transit": ("En route", "Votre colis voyage dans le réseau du transporteur."),
        "in_transit:delayed": ("Retardé", "Le transporteur signale un retard. Votre colis est toujours en route."),
        "out_for_delivery": ("En cours de livraison", "Votre colis est dans le véhicule de livraison et arrive aujourd'hui."),
        "ready_for_pickup": ("Prêt à être retiré", "Votre colis vous attend. Munissez-vous de votre code de retrait ou d'une pièce d'identité."),
        "delivered": ("Livré", "Votre colis a été livré."),
        "delivered:neighbour": ("Livré chez un voisin", "Votre colis a été remis à un voisin."),
        "delivered:mailbox": ("Livré dans votre boîte aux lettres", "Votre colis est dans votre boîte aux lettres."),
        "delivered:safe_place": ("Déposé en lieu sûr", "Votre colis a été déposé à l'endroit choisi."),
        "delivered:parcel_locker": ("Livré en consigne", "Votre colis est dans la consigne automatique."),
        "failed_attempt": ("Échec de livraison", "Le transporteur n'a pas pu livrer aujourd'hui et fera une nouvelle tentative."),
        "exception": ("Un problème est survenu", "Le transporteur signale un problème avec votre colis."),
        "exception:address_issue": ("Adresse à vérifier", "Le transporteur n'a pas pu trouver l'adresse. Merci de la vérifier auprès de lui."),
        "exception:customs": ("En douane", "Votre colis est contrôlé par la douane."),
        "exception:weather": ("Retard météo", "Le mauvais temps retarde votre colis."),
        "returned_to_sender": ("Retour à la boutique", "Votre colis repart vers la boutique."),
        "unknown": ("Nouvelle information", "Le transporteur a publié une mise à jour."),
    },
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Track your parcel", "order": "Order", "parcel_of": "Parcel {i} of {n}", "eta": "Estimated delivery",
        "delivered_on": "Delivered on", "carrier": "Carrier", "tracking_number": "Tracking number",
        "carrier_link": "Track on the carrier's site", "timeline": "Journey", "no_events": "No carrier scans yet.",
        "items": "In this parcel", "qty": "Qty", "pickup": "Pickup location", "pickup_by": "Pick up by",
        "other_parcels": "Other parcels of this order", "recommended": "You might also like", "steps": "Ordered|Shipped|On its way|Out for delivery|Delivered",
        "pickup_step": "Ready for pickup", "return": "Return parcel", "language": "Language",
        "not_found_title": "We could not find this page",
        "not_found": "The link may be mistyped or no longer valid. You can look up your parcel with your order number.",
        "lookup_title": "Find your parcel", "lookup_intro": "Enter your order number and the email address or postcode you ordered with.",
        "order_number": "Order number", "email_or_postcode": "Email address or postcode", "find": "Find my parcel",
        "no_match": "We could not find a parcel for these details. Please check them and try again.",
        "not_shipped": "This order has not shipped yet. You will get a link as soon as it leaves the warehouse.",
        "too_many": "Too many attempts. Please try again in {m} minutes.", "powered": "Tracking by {store}",
        "required": "Please fill in both fields.", "local_time": "times are the carrier's local time",
    },
    "de": {
        "title": "Sendungsverfolgung", "order": "Bestellung", "parcel_of": "Paket {i} von {n}", "eta": "Voraussichtliche Zustellung",
        "delivered_on": "Zugestellt am", "carrier": "Versanddienst", "tracking_number": "Sendungsnummer",
        "carrier_link": "Beim Versanddienst verfolgen", "timeline": "Sendungsverlauf", "no_events": "Noch keine Scans des Versanddienstes.",
        "items": "In diesem Paket", "qty": "Menge", "pickup": "Abholort", "pickup_by": "Abholen bis",
        "other_parcels": "Weitere Pakete dieser Bestellung", "recommended": "Das könnte Ihnen auch gefallen", "steps": "Bestellt|Versendet|Unterwegs|In Zustellung|Zugestellt",
        "pickup_step": "Abholbereit", "return": "Rücksendung", "language": "Sprache",
        "not_found_title": "Diese Seite gibt es nicht",
        "not_found": "Der Link ist vielleicht falsch oder nicht mehr gültig. Du kannst dein Paket mit der Bestellnummer suchen.",
        "lookup_title": "Paket finden", "lookup_intro": "Gib deine Bestellnummer und die E-Mail-Adresse oder Postleitzahl deiner Bestellung ein.",
        "order_number": "Bestellnummer", "email_or_postcode": "E-Mail-Adresse oder Postleitzahl", "find": "Paket finden",
        "no_match": "Zu diesen Angaben haben wir kein Paket gefunden. Bitte prüfe sie und versuche es erneut.",
        "not_shipped": "Diese Bestellung wurde noch nicht versendet. Du bekommst einen Link, sobald sie das Lager verlässt.",
        "too_many": "Zu viele Versuche. Bitte versuche es in {m} Minuten erneut.", "powered": "Sendungsverfolgung von {store}",
        "required": "Bitte fülle beide Felder aus.", "local_time": "Zeiten in Ortszeit des Versanddienstes",
    },
    "fr": {
        "title": "Suivre votre colis", "order": "Commande", "parcel_of": "Colis {i} sur {n}", "eta": "Livraison estimée",
        "delivered_on": "Livré le", "carrier": "Transporteur", "tracking_number": "Numéro de suivi",
        "carrier_link": "Suivre sur le site du transporteur", "timeline": "Parcours", "no_events": "Aucun scan du transporteur pour l'instant.",
        "items": "Dans ce colis", "qty": "Qté", "pickup": "Point de retrait", "pickup_by": "À retirer avant le",
        "other_parcels": "Autres colis de cette commande", "recommended": "Vous aimerez aussi", "steps": "Commandé|Expédié|En route|En livraison|Livré",
        "pickup_step": "Prêt à retirer", "return": "Colis retour", "language": "Langue",
        "not_found_title": "Page introuvable",
        "not_found": "Le lien est peut-être erroné ou n'est plus valable. Vous pouvez rechercher votre colis avec votre numéro de commande.",
        "lookup_title": "Retrouver votre colis", "lookup_intro": "Saisissez votre numéro de commande et l'adresse e-mail ou le code postal de la commande.",
        "order_number": "Numéro de commande", "email_or_postcode": "Adresse e-mail ou code postal", "find": "Retrouver mon colis",
        "no_match": "Aucun colis ne correspond à ces informations. Merci de les vérifier et de réessayer.",
        "not_shipped": "Cette commande n'est pas encore expédiée. Vous recevrez un lien dès son départ de l'entrepôt.",
        "too_many": "Trop de tentatives. Merci de réessayer dans {m} minutes.", "powered": "Suivi par {store}",
        "required": "Merci de remplir les deux champs.", "local_time": "heures locales du transporteur",
    },
}

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "de": ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."),
    "fr": ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."),
}
WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "de": ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."),
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
}


def language_of(locale: str | None) -> str | None:
    code = (locale or "").replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def choose_language(*, requested: str | None, store_setting: str | None, order_locale: str | None,
                    accept: str | None = None) -> str:
    """The shopper's explicit switch first, then the store's fixed choice, then the order's locale, then the browser."""
    for candidate in (requested, store_setting if store_setting != "auto" else None, language_of(order_locale), accept):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    return "en"


def status_words(status: str, substatus: str | None, lang: str) -> tuple[str, str]:
    table = STATUS.get(lang, STATUS["en"])
    return table.get(f"{status}:{substatus}") or table.get(status) or table["unknown"]


def format_date(value: date, lang: str) -> str:
    day, month = value.day, MONTHS[lang][value.month - 1]
    weekday = WEEKDAYS[lang][value.weekday()]
    if lang == "en":
        return f"{weekday} {day} {month} {value.year}"
    if lang == "de":
        return f"{weekday} {day}. {month} {value.year}"
    return f"{weekday} {day} {month} {value.year}"


def format_offset(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_datetime(value: datetime, lang: str) -> str:
    """The carrier's local time with its offset, e.g. "Mon 23 Nov 2026, 14:05 (UTC+01:00)"; 24 h clock in de and fr."""
    clock = f"{value:%H:%M}" if lang != "en" else f"{value.hour % 12 or 12}:{value:%M} {'am' if value.hour < 12 else 'pm'}"
    suffix = " Uhr" if lang == "de" else ""
    return f"{format_date(value.date(), lang)}, {clock}{suffix} ({format_offset(value)})"

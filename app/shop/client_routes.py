"""The client's shop: cart, checkout, order confirmation, "my orders" and downloads.

A client is known per studio by the gallery session (app.galleries.clients). Every input is
checked by the cart and checkout services; a refusal is flashed and nothing changes.
"""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from app import ratelimits, timeutil
from app.accounts.models import Studio
from app.database import begin_write
from app.extensions import db
from app.galleries import signin, signin_routes
from app.galleries.signin_forms import NewLinkForm
from app.galleries.storage import photo_file
from app.mailing.services import send_now
from app.shop import cart as carts
from app.shop import client_bp, notifications
from app.shop.addresses import country_choices, home_country
from app.shop.checkout import CheckoutError, Contact, Delivery, find_coupon, place_order, quote_cart
from app.shop.client_forms import AddToCartForm, CheckoutForm, QuantityForm
from app.shop.client_services import (
    DownloadRefused,
    OrdersLinkRefused,
    client_for_orders_link,
    client_orders,
    download_token,
    downloadable_photos,
    my_orders_token,
    read_download_token,
)
from app.shop.models import Order, OrderStatus
from app.shop.orders import STATUS_LABELS, tracking_url
from app.shop.payment_bank import epc_qr_data_uri
from app.shop.payment_settings import CARD, offered_methods, settings_of
from app.shop.payments import PROVIDERS, providers_for
from app.shop.stripe_checkout import CardPaymentError, create_checkout_session, open_payment
from app.sms.phone import default_region, display_phone


def current_client(studio):
    """The client signed in to this studio's galleries in this browser, or None."""
    from app.galleries.clients import current_client as gallery_client

    return gallery_client(studio.id)


def _studio_or_404(studio_slug):
    studio = db.session.scalar(sa.select(Studio).where(Studio.slug == studio_slug))
    if studio is None:
        abort(404)
    g.studio = studio
    return studio


def _client_or_redirect(studio):
    """The signed-in client of this studio, or None after flashing what to do."""
    client = current_client(studio)
    if client is None:
        flash(_("Please open your gallery and register with your email to order."), "warning")
    return client


def _back(default):
    """Back to the page the client came from (on this site only), else ``default``."""
    target = request.form.get("next") or request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return redirect(default)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if path.startswith("/") and not path.startswith("//"):
        return redirect(path)
    return redirect(default)


@client_bp.post("/s/<studio_slug>/cart/add")
def add_to_cart(studio_slug):
    """Add a product for a photo to the client's cart. The gallery's lightbox sends it with
    ``Accept: application/json`` and shows the answer where the client is (``_added``)."""
    begin_write()
    studio = _studio_or_404(studio_slug)
    client = _client_or_redirect(studio)
    if client is None:
        return _added(studio, None, 401)
    form = AddToCartForm()
    if not form.validate():
        return _added(
            studio, " ".join(str(error) for errors in form.errors.values() for error in errors), 422
        )
    try:
        item = carts.add_to_cart(
            client,
            gallery_id=int(form.gallery_id.data),
            photo_id=int(form.photo_id.data),
            product_id=form.product_id.data,
            quantity=form.quantity.data,
            now=timeutil.now(),
        )
    except (carts.CartError, ValueError) as error:
        return _added(studio, str(error), 422)
    db.session.commit()
    message = _(
        "Added to your cart: %(product)s × %(quantity)d.",
        product=item.product.name,
        quantity=form.quantity.data,
    )
    return _added(studio, message, 200)


def _added(studio, message, status):
    """The answer to "add to cart": JSON for the lightbox, else the message flashed and back to
    the page. A refusal (any status but 200) changes nothing."""
    if status != 200:
        db.session.rollback()
    if request.accept_mimetypes.best == "application/json":
        flashed = get_flashed_messages()  # the "please register" notice, said here instead
        return jsonify(
            {
                "ok": status == 200,
                "message": message or " ".join(flashed),
                "cart_url": url_for("shop.cart", studio_slug=studio.slug),
            }
        ), status
    if message:
        flash(message, "success" if status == 200 else "error")
    return _back(url_for("shop.cart", studio_slug=studio.slug))


def _cart_page(studio, client, coupon_code=""):
    now = timeutil.now()
    cart = carts.open_cart(client, now, create=False)
    coupon, coupon_error = None, None
    if coupon_code:
        try:
            coupon = find_coupon(studio.id, coupon_code, now)
        except CheckoutError as error:
            coupon_error = str(error)
    quote = quote_cart(cart, now, coupon)
    return cart, quote, coupon, coupon_error


@client_bp.get("/s/<studio_slug>/cart")
def cart(studio_slug):
    """The client's cart across the studio's galleries, priced by the pricing service."""
    studio = _studio_or_404(studio_slug)
    client = current_client(studio)
    if client is None:
        return render_template(
            "shop/client/cart.html",
            studio=studio,
            client=None,
            cart=None,
            quote=None,
            lines={},
            coupon=None,
            coupon_error=None,
        )
    coupon_code = request.args.get("coupon", "").strip()
    cart_row, quote, coupon, coupon_error = _cart_page(studio, client, coupon_code)
    lines = {line.key: line for line in quote.lines}
    return render_template(
        "shop/client/cart.html",
        studio=studio,
        client=client,
        cart=cart_row,
        quote=quote,
        lines=lines,
        coupon=coupon,
        coupon_error=coupon_error,
        coupon_code=coupon_code,
        quantity_form=QuantityForm(),
    )


@client_bp.post("/s/<studio_slug>/cart/items/<int:item_id>")
def update_item(studio_slug, item_id):
    """Change a line's quantity (0 removes it)."""
    begin_write()
    studio = _studio_or_404(studio_slug)
    client = _client_or_redirect(studio)
    if client is None:
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    form = QuantityForm()
    now = timeutil.now()
    try:
        if not form.validate():
            raise carts.CartError(" ".join(map(str, form.quantity.errors)) or _("Please enter a quantity."))
        carts.update_quantity(carts.open_cart(client, now, create=False), item_id, form.quantity.data, now)
    except carts.CartError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    db.session.commit()
    return redirect(url_for("shop.cart", studio_slug=studio.slug))


@client_bp.post("/s/<studio_slug>/cart/items/<int:item_id>/remove")
def remove_item(studio_slug, item_id):
    """Remove a line from the cart."""
    begin_write()
    studio = _studio_or_404(studio_slug)
    client = _client_or_redirect(studio)
    if client is None:
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    now = timeutil.now()
    try:
        carts.remove_item(carts.open_cart(client, now, create=False), item_id, now)
    except carts.CartError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    db.session.commit()
    flash(_("Removed from your cart."), "success")
    return redirect(url_for("shop.cart", studio_slug=studio.slug))


def _checkout_form(studio, client, quote, methods):
    form = CheckoutForm(
        data=None
        if request.method == "POST"
        else {
            "name": client.name,
            "email": client.email,
            "phone": display_phone(client.phone) if client.phone else "",
            "coupon_code": request.args.get("coupon", ""),
        },
        phone_region=default_region(studio),
    )
    # Every country, named in the page's language, the studio's own first; the ISO code is stored.
    home = home_country(studio)
    form.country.choices = [("", _("Choose a country")), *country_choices(first=home)]
    if request.method != "POST" and home:
        form.country.data = home  # most clients live where the studio works
    # ``methods``: what the studio and every gallery of the cart offer (Shop → Payments).
    form.payment_method.choices = [(p.key, p.label) for p in providers_for(quote, methods)] or [
        (PROVIDERS[key].key, PROVIDERS[key].label) for key in methods
    ]
    if not form.payment_method.data and len(form.payment_method.choices) == 1:
        form.payment_method.data = form.payment_method.choices[0][0]
    form._needs_address = quote.needs_shipping
    return form


def _quote_for_form(studio, cart_row, form, now):
    """The quote for what the form says now (coupon and delivery), with the coupon's problem."""
    coupon, coupon_error = None, None
    code = (form.coupon_code.data or "").strip()
    if code:
        try:
            coupon = find_coupon(studio.id, code, now)
        except CheckoutError as error:
            coupon_error = str(error)
    return quote_cart(cart_row, now, coupon, form.delivery_method.data or "shipping"), coupon_error


@client_bp.route("/s/<studio_slug>/checkout", methods=["GET", "POST"])
def checkout(studio_slug):
    """Contact, delivery, coupon, "email me" checkbox, review, place the order."""
    if request.method == "POST":
        begin_write()
    studio = _studio_or_404(studio_slug)
    client = _client_or_redirect(studio)
    if client is None:
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    now = timeutil.now()
    cart_row = carts.open_cart(client, now, create=False)
    if cart_row is None or not cart_row.items:
        flash(_("Your cart is empty."), "warning")
        return redirect(url_for("shop.cart", studio_slug=studio.slug))
    methods = offered_methods(studio.id, [item.gallery_id for item in cart_row.items])
    form = _checkout_form(studio, client, quote_cart(cart_row, now), methods)
    quote, coupon_error = _quote_for_form(studio, cart_row, form, now)
    form._needs_address = quote.needs_shipping
    if request.method == "POST" and "place_order" in request.form:
        if form.validate() and not coupon_error:
            order = _place(studio, client, cart_row, form, now)
            if order is not None and order.payment_method == CARD:
                _start_card_payment(order, studio, now)
                return redirect(url_for("shop.pay", studio_slug=studio.slug, number=order.number))
            if order is not None:
                return redirect(url_for("shop.thanks", studio_slug=studio.slug, number=order.number))
        elif coupon_error:
            form.coupon_code.errors = [coupon_error]
    lines = {line.key: line for line in quote.lines}
    return render_template(
        "shop/client/checkout.html",
        studio=studio,
        client=client,
        cart=cart_row,
        quote=quote,
        lines=lines,
        form=form,
        coupon_error=coupon_error,
    )


def _place(studio, client, cart_row, form, now):
    """Place the order; on refusal flash why and return None (nothing was written)."""
    delivery = Delivery(
        method=form.delivery_method.data or "shipping",
        address_line1=form.address_line1.data or "",
        address_line2=form.address_line2.data or "",
        postal_code=form.postal_code.data or "",
        city=form.city.data or "",
        country=form.country.data or "",
        region=form.region.data or "",
    )
    try:
        order = place_order(
            studio=studio,
            client=client,
            cart=cart_row,
            contact=Contact(form.name.data, form.email.data, form.phone.data or ""),
            sms_consent=form.sms_consent.data,
            sms_consent_text=form.sms_consent_text,
            delivery=delivery,
            payment_method=form.payment_method.data,
            now=now,
            coupon_code=form.coupon_code.data,
            notify_status_changes=form.notify_status_changes.data,
        )
    except CheckoutError as error:
        db.session.rollback()
        flash(str(error), "error")
        return None
    db.session.commit()
    notifications.send_queued(now)  # the "order placed" emails (Settings → Order emails)
    return order


def _start_card_payment(order, studio, now):
    """Open the Stripe Checkout Session of a card order; on failure say so (the pay page offers
    to try again)."""
    try:
        create_checkout_session(order, studio, now)
    except CardPaymentError as error:
        db.session.rollback()
        flash(str(error), "error")
        return
    db.session.commit()


def _client_order_or_404(studio, number):
    client = current_client(studio)
    order = db.session.scalar(sa.select(Order).where(Order.studio_id == studio.id, Order.number == number))
    if order is None or client is None or order.client_id != client.id:
        abort(404)
    return client, order


@client_bp.get("/s/<studio_slug>/orders/<number>/thanks")
def thanks(studio_slug, number):
    """The confirmation page right after ordering, for the client who placed the order. A card
    order shows "paid" only once Stripe's webhook said so, never because of this return URL."""
    studio = _studio_or_404(studio_slug)
    client, order = _client_order_or_404(studio, number)
    payment = PROVIDERS[order.payment_method].start(order)
    awaiting_card = order.payment_method == CARD and order.status == OrderStatus.NEW
    return render_template(
        "shop/client/thanks.html",
        studio=studio,
        order=order,
        payment=payment,
        awaiting_card=awaiting_card,
        returned_from_card=bool(request.args.get("session_id")),
        epc_qr=epc_qr_data_uri(payment.transfer) if payment.transfer else None,
        orders_url=url_for("shop.my_orders", token=my_orders_token(studio.id, client.id)),
    )


@client_bp.route("/s/<studio_slug>/orders/<number>/pay", methods=["GET", "POST"])
def pay(studio_slug, number):
    """A card order's way to Stripe's payment page: a link to its open Checkout Session (a
    link, not a form: the page is on another site), or a button opening a new session."""
    if request.method == "POST":
        begin_write()
    studio = _studio_or_404(studio_slug)
    _client, order = _client_order_or_404(studio, number)
    if order.payment_method != CARD or order.status != OrderStatus.NEW:
        return redirect(url_for("shop.thanks", studio_slug=studio.slug, number=order.number))
    now = timeutil.now()
    payment = open_payment(order, now)
    if request.method == "POST":
        if payment is None:
            _start_card_payment(order, studio, now)
        return redirect(url_for("shop.pay", studio_slug=studio.slug, number=order.number))
    return render_template(
        "shop/client/pay.html",
        studio=studio,
        order=order,
        payment=payment,
        test_mode=settings_of(studio.id).is_test_mode,
    )


@client_bp.get("/my-orders/<token>")
def my_orders(token):
    """Every order of the client with this studio: status, tracking, history and downloads."""
    try:
        client = client_for_orders_link(token)
    except OrdersLinkRefused as refusal:
        studio = db.session.get(Studio, refusal.studio_id) if refusal.studio_id else None
        g.studio = studio
        return render_template(
            "shop/client/orders_link_refused.html", studio=studio, reason=refusal.reason
        ), 410 if studio else 404
    studio = db.session.get(Studio, client.studio_id) or abort(404)
    g.studio = studio
    orders = client_orders(studio.id, client.id)
    downloads = {
        order.id: [
            (photo, url_for("shop.download", token=download_token(order.id, photo.id)))
            for photo in downloadable_photos(order)
        ]
        for order in orders
    }
    return render_template(
        "shop/client/my_orders.html",
        studio=studio,
        orders=orders,
        downloads=downloads,
        labels=STATUS_LABELS,
        tracking_url=tracking_url,
    )


@client_bp.get("/download/<token>")
def download(token):
    """The full-resolution original of a paid photo, through a signed link valid for a week."""
    try:
        order_id, photo_id = read_download_token(token)
    except DownloadRefused as refusal:
        return render_template("shop/client/download_refused.html", reason=str(refusal)), 410
    order = db.session.get(Order, order_id)
    photo = next((p for p in downloadable_photos(order) if p.id == photo_id), None) if order else None
    if photo is None:
        return render_template("shop/client/download_refused.html", reason="not_paid"), 403
    return send_file(
        photo_file(photo, "original"), as_attachment=True, download_name=photo.original_filename, max_age=0
    )


@client_bp.route("/s/<studio_slug>/my-orders/new-link", methods=["GET", "POST"])
@ratelimits.per_ip("CLIENT_SIGN_IN_RATE_LIMIT_PER_IP", "client-sign-in")
@ratelimits.per_address("CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS", "client-sign-in")
def new_orders_link(studio_slug):
    """Ask for a new private link to one's orders: a one-time link and code go to the address,
    with the same answer whether it is a client of the studio or not."""
    studio = _studio_or_404(studio_slug)
    form = NewLinkForm()
    if form.validate_on_submit():
        begin_write()
        now = timeutil.now()
        pending, token, code = signin.request_sign_in(
            studio.id, email=form.email.data, name="", language=studio.language, next_page="orders", now=now
        )
        email = signin_routes.send_sign_in_email(studio, pending, token, code, now)
        db.session.commit()
        signin_routes.remember_pending(pending)
        send_now([email], now)
        return redirect(url_for("galleries_public.check_email"))
    return render_template("shop/client/new_orders_link.html", studio=studio, form=form), (
        422 if form.errors else 200
    )

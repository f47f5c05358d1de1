"""Shop admin views: the shop's index, price lists and their products, gallery pricing,
promotions and coupons. The order pages are in ``admin_order_routes``.

Every view is for logged-in staff and reaches rows through the current studio: price lists,
coupons and galleries with ``get_owned_or_404``, products through their price list, promotions
through their gallery. Another studio's id answers 404.
"""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.database import get_owned_or_404
from app.extensions import db
from app.galleries.models import Gallery
from app.shop import admin_bp
from app.shop import admin_forms as forms
from app.shop import admin_services as services
from app.shop.models import Coupon, DiscountKind, OrderStatus, PriceList, Product, Promotion
from app.shop.money import current_locale, format_money
from app.shop.orders import STATUS_LABELS
from app.shop.pricing import percent_text
from app.timeutil import now


@admin_bp.context_processor
def shop_helpers():
    """``money(minor)`` in the studio's currency and language, and the labels the pages share."""

    def money(minor, currency=None):
        studio = current_user.studio
        return format_money(minor or 0, currency or studio.currency, locale=studio.language)

    def discount_text(row):
        if row.discount_kind == DiscountKind.PERCENT:
            return percent_text(row.discount_value, current_locale())
        return money(row.discount_value)

    return {
        "money": money,
        "discount_text": discount_text,
        "status_labels": STATUS_LABELS,
        "kind_labels": forms.KIND_LABELS,
        "scope_labels": forms.SCOPE_LABELS,
    }


def _price_list_or_404(price_list_id):
    return get_owned_or_404(PriceList, price_list_id, current_user.studio_id)


def _product_or_404(price_list_id, product_id):
    """A product of this studio reached through its own price list's URL (any other pair is a 404)."""
    price_list = _price_list_or_404(price_list_id)
    product = db.session.get(Product, product_id)
    if product is None or product.price_list_id != price_list.id:
        abort(404)
    return product


def _gallery_or_404(gallery_id):
    return get_owned_or_404(Gallery, gallery_id, current_user.studio_id)


def _promotion_or_404(gallery_id, promotion_id):
    gallery = _gallery_or_404(gallery_id)
    promotion = db.session.get(Promotion, promotion_id)
    if promotion is None or promotion.gallery_id != gallery.id:
        abort(404)
    return promotion


# ------------------------------------------------------------------ index


@admin_bp.get("/")
@login_required
def index():
    """The shop's home: price lists, promotions, coupons and orders at a glance."""
    studio_id = current_user.studio_id
    return render_template(
        "shop/admin/index.html",
        price_list_count=len(services.list_price_lists(studio_id)),
        promotion_count=len(services.list_promotions(studio_id)),
        coupon_count=len(services.list_coupons(studio_id)),
        order_count=services.count_orders(studio_id),
        new_order_count=services.count_orders(studio_id, OrderStatus.NEW),
        paid_order_count=services.count_orders(studio_id, OrderStatus.PAID),
    )


# ------------------------------------------------------------------ price lists


@admin_bp.get("/price-lists/")
@login_required
def price_lists():
    """The studio's price lists with product counts and the galleries that use them."""
    return render_template(
        "shop/admin/price_lists.html", rows=services.list_price_lists(current_user.studio_id)
    )


@admin_bp.route("/price-lists/new", methods=["GET", "POST"])
@login_required
def new_price_list():
    """Create a price list, then add its products."""
    form = forms.PriceListForm(current_user.studio)
    if form.validate_on_submit():
        price_list = services.create_price_list(current_user.studio_id, form.to_data(), now())
        db.session.commit()
        flash(_("Price list “%(name)s” created. Now add its products.", name=price_list.name), "success")
        return redirect(url_for(".price_list", price_list_id=price_list.id))
    return render_template("shop/admin/price_list_form.html", form=form, price_list=None)


@admin_bp.get("/price-lists/<int:price_list_id>")
@login_required
def price_list(price_list_id):
    """A price list: its settings, its products in order, and the galleries using it."""
    price_list = _price_list_or_404(price_list_id)
    galleries = services.galleries_using(current_user.studio_id, price_list.id).get(price_list.id, [])
    return render_template(
        "shop/admin/price_list.html",
        price_list=price_list,
        galleries=galleries,
        action_form=forms.ConfirmForm(),
    )


@admin_bp.route("/price-lists/<int:price_list_id>/edit", methods=["GET", "POST"])
@login_required
def edit_price_list(price_list_id):
    """Change a price list's name, shipping cost and pickup option."""
    price_list = _price_list_or_404(price_list_id)
    form = forms.PriceListForm(current_user.studio, price_list)
    if form.validate_on_submit():
        services.update_price_list(price_list, form.to_data())
        db.session.commit()
        flash(_("Changes to “%(name)s” saved.", name=price_list.name), "success")
        return redirect(url_for(".price_list", price_list_id=price_list.id))
    return render_template("shop/admin/price_list_form.html", form=form, price_list=price_list)


@admin_bp.route("/price-lists/<int:price_list_id>/delete", methods=["GET", "POST"])
@login_required
def delete_price_list(price_list_id):
    """Confirm, then delete a price list that no gallery and no open cart uses."""
    price_list = _price_list_or_404(price_list_id)
    form = forms.ConfirmForm()
    galleries = services.galleries_using(current_user.studio_id, price_list.id).get(price_list.id, [])
    carts = services.open_cart_count([product.id for product in price_list.products])
    if form.validate_on_submit():
        name = price_list.name
        try:
            services.delete_price_list(price_list)
        except services.ShopAdminError as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(url_for(".delete_price_list", price_list_id=price_list_id))
        db.session.commit()
        flash(_("Price list “%(name)s” deleted.", name=name), "success")
        return redirect(url_for(".price_lists"))
    return render_template(
        "shop/admin/price_list_delete.html",
        price_list=price_list,
        form=form,
        galleries=galleries,
        open_carts=carts,
    )


# ------------------------------------------------------------------ products


@admin_bp.route("/price-lists/<int:price_list_id>/products/new", methods=["GET", "POST"])
@login_required
def new_product(price_list_id):
    """Add a print, digital download or package (``?kind=``) to a price list."""
    price_list = _price_list_or_404(price_list_id)
    form = forms.ProductForm(current_user.studio, kind=request.args.get("kind"))
    if form.validate_on_submit():
        product = services.add_product(price_list, form.to_data())
        db.session.commit()
        flash(_("“%(name)s” added.", name=product.name), "success")
        return redirect(url_for(".price_list", price_list_id=price_list.id) + "#products")
    return render_template("shop/admin/product_form.html", form=form, price_list=price_list, product=None)


@admin_bp.route("/price-lists/<int:price_list_id>/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(price_list_id, product_id):
    """Change a product. Orders already placed keep the name and price they were charged."""
    product = _product_or_404(price_list_id, product_id)
    form = forms.ProductForm(current_user.studio, product)
    if form.validate_on_submit():
        services.update_product(product, form.to_data())
        db.session.commit()
        flash(_("Changes to “%(name)s” saved.", name=product.name), "success")
        return redirect(url_for(".price_list", price_list_id=price_list_id) + "#products")
    return render_template(
        "shop/admin/product_form.html", form=form, price_list=product.price_list, product=product
    )


@admin_bp.post("/price-lists/<int:price_list_id>/products/<int:product_id>/delete")
@login_required
def delete_product(price_list_id, product_id):
    """Delete a product no open cart holds; otherwise say to deactivate it."""
    product = _product_or_404(price_list_id, product_id)
    if forms.ConfirmForm().validate_on_submit():
        name = product.name
        try:
            services.delete_product(product)
        except services.ShopAdminError as refused:
            db.session.rollback()
            flash(str(refused), "error")
        else:
            db.session.commit()
            flash(_("“%(name)s” deleted.", name=name), "success")
    return redirect(url_for(".price_list", price_list_id=price_list_id) + "#products")


@admin_bp.post("/price-lists/<int:price_list_id>/products/<int:product_id>/move/<direction>")
@login_required
def move_product(price_list_id, product_id, direction):
    """Move a product up or down in the list clients see."""
    product = _product_or_404(price_list_id, product_id)
    if direction not in ("up", "down"):
        abort(404)
    if forms.ConfirmForm().validate_on_submit():
        services.move_product(product, -1 if direction == "up" else 1)
        db.session.commit()
    return redirect(url_for(".price_list", price_list_id=price_list_id) + "#products")


@admin_bp.post("/price-lists/<int:price_list_id>/products/<int:product_id>/active")
@login_required
def toggle_product(price_list_id, product_id):
    """Take a product off sale (it stays in the list) or put it back on sale."""
    product = _product_or_404(price_list_id, product_id)
    if forms.ConfirmForm().validate_on_submit():
        services.set_product_active(product, not product.is_active)
        db.session.commit()
        message = (
            _("“%(name)s” is on sale again.", name=product.name)
            if product.is_active
            else _("“%(name)s” is no longer on sale.", name=product.name)
        )
        flash(message, "success")
    return redirect(url_for(".price_list", price_list_id=price_list_id) + "#products")


# ------------------------------------------------------------------ gallery pricing


@admin_bp.route("/galleries/<int:gallery_id>/pricing", methods=["GET", "POST"])
@login_required
def gallery_pricing(gallery_id):
    """Choose the price list a gallery sells from (and one for group photos in QR galleries)."""
    gallery = _gallery_or_404(gallery_id)
    rows = services.list_price_lists(current_user.studio_id)
    form = forms.GalleryPricingForm(
        [row.price_list for row in rows], gallery, services.gallery_pricing(gallery)
    )
    if form.validate_on_submit():
        main, group = form.chosen()
        services.set_gallery_pricing(gallery, main, group)
        db.session.commit()
        flash(_("Pricing of “%(title)s” saved.", title=gallery.title), "success")
        return redirect(url_for(".gallery_pricing", gallery_id=gallery.id))
    from app.shop.payment_routes import gallery_methods_form

    return render_template(
        "shop/admin/gallery_pricing.html",
        gallery=gallery,
        form=form,
        rows=rows,
        methods_form=gallery_methods_form(gallery, formdata=None),
    )


# ------------------------------------------------------------------ promotions


@admin_bp.get("/promotions/")
@login_required
def promotions():
    """Every running, upcoming and ended promotion of the studio, with their galleries."""
    studio_id = current_user.studio_id
    galleries = db.session.scalars(
        sa.select(Gallery).where(Gallery.studio_id == studio_id).order_by(Gallery.title)
    ).all()
    return render_template(
        "shop/admin/promotions.html",
        rows=services.list_promotions(studio_id),
        galleries=galleries,
        gallery=None,
        now=now(),
        state=services.promotion_state,
        action_form=forms.ConfirmForm(),
    )


@admin_bp.get("/galleries/<int:gallery_id>/promotions")
@login_required
def gallery_promotions(gallery_id):
    """One gallery's promotions."""
    gallery = _gallery_or_404(gallery_id)
    rows = services.list_promotions(current_user.studio_id, gallery.id)
    return render_template(
        "shop/admin/promotions.html",
        rows=rows,
        galleries=None,
        gallery=gallery,
        now=now(),
        state=services.promotion_state,
        action_form=forms.ConfirmForm(),
    )


@admin_bp.route("/galleries/<int:gallery_id>/promotions/new", methods=["GET", "POST"])
@login_required
def new_promotion(gallery_id):
    """Create a promotion for a gallery: a discount between a start and a mandatory end."""
    gallery = _gallery_or_404(gallery_id)
    moment = now()
    form = forms.PromotionForm(current_user.studio, now=moment)
    if form.validate_on_submit():
        promotion = services.create_promotion(gallery, form.to_data(), moment)
        db.session.commit()
        flash(_("Promotion “%(name)s” created.", name=promotion.name), "success")
        return redirect(url_for(".gallery_promotions", gallery_id=gallery.id))
    return render_template("shop/admin/promotion_form.html", form=form, gallery=gallery, promotion=None)


@admin_bp.route("/galleries/<int:gallery_id>/promotions/<int:promotion_id>/edit", methods=["GET", "POST"])
@login_required
def edit_promotion(gallery_id, promotion_id):
    """Change a promotion (a removed one cannot be changed)."""
    promotion = _promotion_or_404(gallery_id, promotion_id)
    if promotion.removed_at is not None:
        flash(_("This promotion was removed and can no longer be changed."), "error")
        return redirect(url_for(".gallery_promotions", gallery_id=gallery_id))
    form = forms.PromotionForm(current_user.studio, promotion)
    if form.validate_on_submit():
        services.update_promotion(promotion, form.to_data())
        db.session.commit()
        flash(_("Changes to “%(name)s” saved.", name=promotion.name), "success")
        return redirect(url_for(".gallery_promotions", gallery_id=gallery_id))
    return render_template(
        "shop/admin/promotion_form.html", form=form, gallery=_gallery_or_404(gallery_id), promotion=promotion
    )


@admin_bp.post("/galleries/<int:gallery_id>/promotions/<int:promotion_id>/remove")
@login_required
def remove_promotion(gallery_id, promotion_id):
    """Remove a promotion: it stops at once and sends no more expiry emails."""
    promotion = _promotion_or_404(gallery_id, promotion_id)
    if forms.ConfirmForm().validate_on_submit():
        services.remove_promotion(promotion, now())
        db.session.commit()
        flash(_("Promotion “%(name)s” removed.", name=promotion.name), "success")
    if request.form.get("next") == "all":  # removed from the studio-wide list: go back there
        return redirect(url_for(".promotions"))
    return redirect(url_for(".gallery_promotions", gallery_id=gallery_id))


# ------------------------------------------------------------------ coupons


@admin_bp.get("/coupons/")
@login_required
def coupons():
    """The studio's coupon codes with their validity and how often they were used."""
    return render_template(
        "shop/admin/coupons.html",
        coupons=services.list_coupons(current_user.studio_id),
        now=now(),
        state=services.coupon_state,
        action_form=forms.ConfirmForm(),
    )


@admin_bp.route("/coupons/new", methods=["GET", "POST"])
@login_required
def new_coupon():
    """Create a studio-wide coupon code."""
    form = forms.CouponForm(current_user.studio)
    if form.validate_on_submit():
        coupon = services.create_coupon(current_user.studio_id, form.to_data(), now())
        db.session.commit()
        flash(_("Coupon %(code)s created.", code=coupon.code), "success")
        return redirect(url_for(".coupons"))
    return render_template("shop/admin/coupon_form.html", form=form, coupon=None)


@admin_bp.route("/coupons/<int:coupon_id>/edit", methods=["GET", "POST"])
@login_required
def edit_coupon(coupon_id):
    """Change a coupon; its usage count is kept."""
    coupon = get_owned_or_404(Coupon, coupon_id, current_user.studio_id)
    form = forms.CouponForm(current_user.studio, coupon)
    if form.validate_on_submit():
        services.update_coupon(coupon, form.to_data())
        db.session.commit()
        flash(_("Changes to coupon %(code)s saved.", code=coupon.code), "success")
        return redirect(url_for(".coupons"))
    return render_template("shop/admin/coupon_form.html", form=form, coupon=coupon)


@admin_bp.post("/coupons/<int:coupon_id>/active")
@login_required
def toggle_coupon(coupon_id):
    """Deactivate a coupon (checkout refuses it) or activate it again."""
    coupon = get_owned_or_404(Coupon, coupon_id, current_user.studio_id)
    if forms.ConfirmForm().validate_on_submit():
        services.set_coupon_active(coupon, not coupon.is_active)
        db.session.commit()
        message = (
            _("Coupon %(code)s is active again.", code=coupon.code)
            if coupon.is_active
            else _("Coupon %(code)s deactivated: clients can no longer use it.", code=coupon.code)
        )
        flash(message, "success")
    return redirect(url_for(".coupons"))


from app.shop import admin_order_routes  # noqa: E402,F401  (registers the order pages)

from django.urls import path

from hab.intake import views

app_name = "intake"

urlpatterns = [
    path("referrals/", views.referral_inbox, name="inbox"),
    path("referrals/new/", views.referral_create, name="referral-create"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral"),
    path("referrals/<int:referral_id>/start/", views.referral_start, name="referral-start"),
    path("referrals/<int:referral_id>/assess/", views.referral_assess, name="referral-assess"),
    path(
        "referrals/<int:referral_id>/waitlist/", views.referral_waitlist, name="referral-waitlist"
    ),
    path("referrals/<int:referral_id>/urgent/", views.referral_urgent, name="referral-urgent"),
    path("referrals/<int:referral_id>/offer/", views.referral_offer, name="referral-offer"),
    path("referrals/<int:referral_id>/admit/", views.referral_admit, name="referral-admit"),
    path(
        "referrals/<int:referral_id>/withdraw/", views.referral_withdraw, name="referral-withdraw"
    ),
    path("waitlist/", views.waitlist, name="waitlist"),
    path("capacity/", views.capacity, name="capacity"),
    path("episodes/<int:episode_id>/phase/", views.episode_phase, name="episode-phase"),
    path(
        "episodes/<int:episode_id>/coordinator/",
        views.episode_coordinator,
        name="episode-coordinator",
    ),
    path("episodes/<int:episode_id>/transfer/", views.episode_transfer, name="episode-transfer"),
    path("episodes/<int:episode_id>/discharge/", views.episode_discharge, name="episode-discharge"),
]

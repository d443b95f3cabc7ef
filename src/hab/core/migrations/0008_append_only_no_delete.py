from django.db import migrations

from hab.core.append_only import no_update_or_delete


class Migration(migrations.Migration):
    """SQLite had triggers that refuse UPDATE of the append-only tables but none that refuse
    DELETE (PostgreSQL's refuse both): every append-only table gets one. The tables are
    named here, not read from ``TABLES``, so the migration stays what it was."""

    dependencies = [
        ("core", "0007_access_log_user_index"),
        ("care", "0002_append_only"),
        ("dosing", "0006_covering_patient_day"),
        ("evaluation", "0002_append_only"),
        ("incidents", "0003_back_entry_source"),
        ("intake", "0003_append_only"),
        ("operations", "0002_append_only"),
        ("patients", "0002_consent_append_only"),
        ("prescribing", "0005_rx_patient_chain"),
        ("research", "0003_hab_core_instrument"),
        ("stock", "0003_leaner_indexes"),
    ]
    operations = [
        no_update_or_delete(
            "core_accesslog",
            "patients_consent",
            "intake_referralevent",
            "intake_episodeevent",
            "intake_eligibilityassessment",
            "intake_criterion",
            "prescribing_dosingprotocol",
            "prescribing_prescription",
            "dosing_administration",
            "dosing_observation",
            "dosing_sessionclose",
            "dosing_guestauthorisation",
            "stock_ledgerentry",
            "stock_stockcount",
            "stock_discrepancy",
            "stock_discrepancyresolution",
            "incidents_incident",
            "incidents_incidentevent",
            "care_goal",
            "care_planaction",
            "care_review",
            "care_statusrecord",
            "care_carenote",
            "care_involvement",
            "operations_sessiontemplate",
            "operations_staffingrule",
            "operations_operationsevent",
            "research_instrument",
            "research_item",
            "research_option",
            "research_missed",
            "research_response",
            "research_answer",
            "research_exportlog",
            "evaluation_costinput",
            "evaluation_grant",
        )
    ]

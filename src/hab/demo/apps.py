from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "hab.demo"
    label = "demo"
    verbose_name = "Demo programme"

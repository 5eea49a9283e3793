from django.db import models


class Note(models.Model):
    project_code = models.UUIDField(db_index=True)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text[:50]

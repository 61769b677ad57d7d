"""佐证材料: files attached to reports, rectifications, decision feedback and publicity activities.

The model (models.py), what a file is by its content (sniff.py), images made safe (images.py), the blob store on disk
named by SHA-256 (blobs.py) and the service the areas call (service.py). Who may download or delete an attachment is
that of its parent object, which this floor cannot load: the routes live on the desk (tracker/desk/evidence.py).
"""

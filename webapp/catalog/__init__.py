"""The product catalog: products, their images, and imports."""

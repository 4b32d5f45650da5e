from covered import shapes

print(shapes.sign(-1))

import ArgumentParser

LE4NN.main()

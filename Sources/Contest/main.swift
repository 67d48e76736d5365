import ArgumentParser
import Net

Threads.configure()

LE4NN.main()

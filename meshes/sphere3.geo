// Three concentric spheres with SimNIBS's tags: the validation geometry of
// tmsfield (same radii and tags as SimNIBS's sphere3.msh test mesh).
//   volume 3: r < R1, volume 4: R1 < r < R2, volume 5: R2 < r < R3 (mm)
//   surfaces 1003, 1004, 1005 at R1, R2, R3
// Parameters (gmsh -setnumber NAME VALUE): h  target edge length in mm (6),
// R1, R2, R3 radii in mm (85, 90, 95).
// Example: gmsh -3 -setnumber h 3 -format msh22 -bin sphere3.geo -o s3.msh
SetFactory("OpenCASCADE");
If (!Exists(h)) h = 6; EndIf
If (!Exists(R1)) R1 = 85; EndIf
If (!Exists(R2)) R2 = 90; EndIf
If (!Exists(R3)) R3 = 95; EndIf
Sphere(1) = {0, 0, 0, R1};
Sphere(2) = {0, 0, 0, R2};
Sphere(3) = {0, 0, 0, R3};
BooleanFragments{ Volume{1, 2, 3}; Delete; }{}
Physical Volume(3) = {1};
Physical Volume(4) = {2};
Physical Volume(5) = {3};
Physical Surface(1003) = {1};
Physical Surface(1004) = {2};
Physical Surface(1005) = {3};
Mesh.CharacteristicLengthMin = h;
Mesh.CharacteristicLengthMax = h;
Mesh.CharacteristicLengthFromCurvature = 0;
Mesh.Algorithm3D = 1;  // Delaunay
Mesh.Optimize = 1;
